import { APP_LINK_LABEL } from '../../src/engine/build-cards';
import { startDemoEhrServer } from '../demo-ehr/static-server';
import { readDemoManifest } from '../demo-fhir/load-demo-patients';
import { assertPortsFree } from './ports';
import { describeServiceWarning } from './service-log';
import { killAllChildren, rssMbOf, startCdsServiceProcess, startDemoFhirProcess, type ChildHandle } from './processes';

/**
 * `npm run sandbox`: the demo FHIR server (loaded with examples/patients, dates moved to today, with a
 * synthetic SMART authorization server), the CDS service (with the SMART app, built by the npm
 * script first) and the demo EHR page, on localhost, with the URLs to paste into the CDS Hooks sandbox.
 *
 * Environment: SANDBOX_HOST (127.0.0.1), SANDBOX_CDS_PORT (8080), SANDBOX_FHIR_PORT (8081),
 * SANDBOX_EHR_PORT (8082), SANDBOX_CDS_URL / SANDBOX_FHIR_URL (public URLs, e.g. behind a tunnel);
 * every other variable (CDS_AUTH, CDS_TRUSTED_ISSUERS, LOG_LEVEL …) goes to the service unchanged.
 */
async function main(): Promise<void> {
  const started = performance.now();
  const host = process.env.SANDBOX_HOST ?? '127.0.0.1';
  const cdsPort = Number(process.env.SANDBOX_CDS_PORT ?? 8080);
  const fhirPort = Number(process.env.SANDBOX_FHIR_PORT ?? 8081);
  const ehrPort = Number(process.env.SANDBOX_EHR_PORT ?? 8082);
  const shownHost = host === '0.0.0.0' || host === '127.0.0.1' ? 'localhost' : host;
  const cdsUrl = (process.env.SANDBOX_CDS_URL ?? `http://${shownHost}:${cdsPort}`).replace(/\/+$/, '');
  const fhirUrl = (process.env.SANDBOX_FHIR_URL ?? `http://${shownHost}:${fhirPort}`).replace(/\/+$/, '');

  await assertPortsFree([
    { variable: 'SANDBOX_CDS_PORT', port: cdsPort, host },
    { variable: 'SANDBOX_FHIR_PORT', port: fhirPort, host },
    { variable: 'SANDBOX_EHR_PORT', port: ehrPort, host },
  ]);

  const children: ChildHandle[] = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    killAllChildren();
    await Promise.all(children.map((c) => c.stop()));
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(0)));

  const [fhir, cds] = await Promise.all([
    startDemoFhirProcess({ port: fhirPort, host, ...(process.env.SANDBOX_VERBOSE ? { verbose: true } : {}) }).then((c) => {
      children.push(c);
      return c;
    }),
    startCdsServiceProcess({
      port: cdsPort,
      host,
      publicBaseUrl: process.env.PUBLIC_BASE_URL ?? cdsUrl,
      env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    }).then((c) => {
      children.push(c);
      return c;
    }),
  ]).catch(async (error: unknown) => {
    await stopAll();
    throw error;
  });
  const ehr = await startDemoEhrServer({ host, port: ehrPort });
  const startupMs = Math.round(performance.now() - started);

  const manifest = readDemoManifest();
  const discovery = `${cdsUrl}/cds-services`;
  const first = manifest.patients[0]!.id;
  const sandboxLink = `https://sandbox.cds-hooks.org/?${new URLSearchParams({ fhirServiceUrl: fhirUrl, serviceDiscoveryURL: discovery, patientId: first, hook: 'patient-view', screen: 'patient-view' })}`;
  const ehrLink = `${ehr.url.replace(/127\.0\.0\.1|0\.0\.0\.0/, shownHost)}/?${new URLSearchParams({ cds: cdsUrl, fhir: fhirUrl, patient: first, hook: 'patient-view' })}`;
  const width = Math.max(...manifest.patients.map((p) => p.name.length));
  const lines = [
    '',
    'zoledronic-cds sandbox is running (synthetic data only; Ctrl-C stops everything)',
    '',
    `  CDS discovery URL (paste this):  ${discovery}`,
    `  FHIR server (R4, open):          ${fhirUrl}   (${fhir.ready.patients} patients, ${fhir.ready.resources} resources, dates moved ${fhir.ready.shiftDays} days to today)`,
    `  Demo EHR page:                   ${ehrLink}`,
    `  SMART app:                       open a card's "${APP_LINK_LABEL}" link on the demo EHR page (EHR launch),`,
    `                                   or standalone: ${cdsUrl}/smart-app/launch.html?iss=${encodeURIComponent(fhirUrl)}`,
    `  Public CDS Hooks sandbox:        ${sandboxLink}`,
    '',
    '  Patients (id: story):',
    ...manifest.patients.map((p) => `    ${p.id}  ${p.name.padEnd(width)}  ${p.story}`),
    '',
    `  Started in ${startupMs} ms; memory: FHIR server ${fhir.rssMb() ?? '?'} MB, CDS service ${cds.rssMb() ?? '?'} MB, launcher ${rssMbOf(process.pid) ?? '?'} MB (RSS).`,
    `  JWTs are ${process.env.CDS_AUTH === 'required' ? 'checked (CDS_AUTH=required)' : 'not checked (CDS_AUTH=off: development only)'}.`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  // The service logs at warn here; show its warnings (refused JWTs above all) as readable lines.
  cds.onLine((line) => {
    const warning = describeServiceWarning(line);
    if (warning) process.stderr.write(`${warning}\n`);
  });

  // If a child dies, say so and stop the rest: a half-running sandbox only confuses.
  for (const [child, name] of [[fhir, 'demo FHIR server'], [cds, 'CDS service']] as const) {
    void child.exited.then((code) => {
      if (stopping) return;
      process.stderr.write(`${name} stopped unexpectedly (${code}):\n${child.output.slice(-10).join('\n')}\n`);
      void stopAll().then(() => ehr.close()).then(() => process.exit(1));
    });
  }
  // Keep the launcher alive while the children run.
  setInterval(() => undefined, 1 << 30);
}

main().catch((error: unknown) => {
  process.stderr.write(`sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
