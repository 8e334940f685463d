import { parseArgs } from 'node:util';
import { startDemoFhirServer } from './demo-fhir-server';
import { DEMO_PATIENTS_DIR, loadDemoPatients } from './load-demo-patients';

/**
 * `node --import tsx tools/demo-fhir/main.ts [--port 8081] [--host 127.0.0.1] [--as-of YYYY-MM-DD]`
 * Starts the demo FHIR server loaded with examples/patients and prints one JSON line
 * `{"event":"ready","url":…}` on stdout (the sandbox launcher and the e2e tests read it).
 */
async function main(): Promise<void> {
  const started = performance.now();
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.DEMO_FHIR_PORT ?? '8081' },
      host: { type: 'string', default: process.env.DEMO_FHIR_HOST ?? '127.0.0.1' },
      'public-url': { type: 'string' },
      'as-of': { type: 'string' },
      patients: { type: 'string', default: DEMO_PATIENTS_DIR },
      'cors-origins': { type: 'string', default: '*' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const asOf = values['as-of'] ? new Date(`${values['as-of']}T12:00:00Z`) : new Date();
  if (Number.isNaN(asOf.getTime())) throw new TypeError(`--as-of must be YYYY-MM-DD, got '${values['as-of']}'`);
  const cors = values['cors-origins']!.trim();
  const server = await startDemoFhirServer({
    host: values.host!,
    port: Number(values.port),
    corsOrigins: cors === '*' ? '*' : cors.split(',').map((o) => o.trim()),
    ...(values['public-url'] ? { publicBaseUrl: values['public-url'] } : {}),
    ...(values.verbose ? { log: (line: string) => process.stderr.write(`[demo-fhir] ${line}\n`) } : {}),
  });
  const loaded = await loadDemoPatients(server, { dir: values.patients!, asOf });
  const ready = {
    event: 'ready',
    url: server.url,
    ...loaded,
    startupMs: Math.round(performance.now() - started),
    rssMb: Math.round(process.memoryUsage().rss / 1e6),
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`demo-fhir: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
