import type { JsonWebKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readDemoManifest } from '../demo-fhir/load-demo-patients';
import { PROJECT_ROOT } from '../sandbox/processes';
import { acceptedFeedback, CdsClient, ruleIdsOf, zoledronicDraftOrders, type HookCall, type HookName } from './cds-client';
import { startHarnessIssuer } from './issuer';
import { createSigningKey, privateJwkOf, signingKeyFromPrivateJwk, type SigningKey } from './jwt';

const HOOKS: HookName[] = ['patient-view', 'order-select', 'order-sign'];
const DEFAULT_KEY_FILE = resolve(PROJECT_ROOT, 'data', 'cds-client', 'signing-key.json');
const DEFAULT_ISSUER = 'http://127.0.0.1:8090';

const USAGE = `Usage: npm run cds-client -- [options]

Drives a running CDS service the way the CDS Hooks sandbox does (discovery, sandbox-style prefetch,
an ES384 JWT per call) and prints the cards.

  --service URL        the service base (default http://localhost:8080; discovery is URL/cds-services)
  --fhir URL           the FHIR server the client and the service read (default http://localhost:8081)
  --patient ID         one patient (default zol-01)
  --all                every demo patient vs its expected cards; exit 1 on a difference
  --hook HOOK          patient-view, order-select or order-sign (default: all three)
  --no-prefetch        send no prefetch: the service reads the FHIR server itself
  --feedback           post "accepted" feedback for the first card with a suggestion
  --issuers-file PATH  write the CDS_TRUSTED_ISSUERS file that trusts this client (keys inline)
  --key-file PATH      the client's signing key, created on first use and reused after
                       (default data/cds-client/signing-key.json)
  --issuer URL         the client's iss; its JWKS is served at URL/.well-known/jwks.json while the
                       client runs (default ${DEFAULT_ISSUER})
  -h, --help           this text

With the same key file and issuer, a trust file written once stays valid across runs:
  npm run cds-client -- --issuers-file data/cds-client/trusted-issuers.json --patient zol-01
  CDS_AUTH=required CDS_TRUSTED_ISSUERS=data/cds-client/trusted-issuers.json npm start
`;

/** A failure the user can act on: printed as one line, exit 1. */
class CliError extends Error {}

function loadOrCreateKey(path: string): SigningKey {
  if (existsSync(path)) {
    try {
      return signingKeyFromPrivateJwk(JSON.parse(readFileSync(path, 'utf8')) as JsonWebKey);
    } catch (error) {
      throw new CliError(`--key-file ${path}: not a usable key (${(error as Error).message}); delete it to make a new one`);
    }
  }
  const key = createSigningKey();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(privateJwkOf(key))}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return key;
}

/** "fetch failed" says nothing: name the URL and the system error. */
function unreachable(error: unknown, what: string, url: string): Error {
  if (!(error instanceof TypeError)) return error as Error;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return new CliError(`cannot reach the ${what} at ${url} (${cause?.code ?? cause?.message ?? error.message}): is it running, and is the URL right?`);
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        service: { type: 'string', default: 'http://localhost:8080' },
        fhir: { type: 'string', default: 'http://localhost:8081' },
        patient: { type: 'string' },
        all: { type: 'boolean', default: false },
        hook: { type: 'string' },
        'no-prefetch': { type: 'boolean', default: false },
        feedback: { type: 'boolean', default: false },
        'issuers-file': { type: 'string' },
        'key-file': { type: 'string', default: DEFAULT_KEY_FILE },
        issuer: { type: 'string', default: DEFAULT_ISSUER },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new CliError(`${(error as Error).message} (see --help)`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const hooks = values.hook ? [values.hook as HookName] : HOOKS;
  if (hooks.some((h) => !HOOKS.includes(h))) throw new CliError(`--hook must be one of ${HOOKS.join(', ')}`);
  for (const name of ['service', 'fhir', 'issuer'] as const) {
    if (!URL.canParse(values[name]!)) throw new CliError(`--${name} ${values[name]} is not a URL`);
  }
  const key = loadOrCreateKey(resolve(values['key-file']!));
  const issuer = await startHarnessIssuer({ key, iss: values.issuer! });
  try {
    if (values['issuers-file']) {
      writeFileSync(values['issuers-file'], `${JSON.stringify([issuer.trustedIssuer('inline')], null, 2)}\n`);
      process.stdout.write(`trust file written: ${values['issuers-file']} (start the service with CDS_AUTH=required CDS_TRUSTED_ISSUERS=${values['issuers-file']})\n`);
    }
    process.stdout.write(`client issuer ${issuer.iss} (JWKS ${issuer.jwksUri}${issuer.servingJwks ? '' : ', not served by this run'}, kid ${issuer.key.kid})\n`);
    const client = new CdsClient({ serviceBase: values.service!, fhirServer: values.fhir!, tokenFor: issuer.tokenFor });
    const discoveryUrl = `${client.serviceBase}/cds-services`;
    const discovery = await client.discover().catch((error: unknown) => {
      throw unreachable(error, 'CDS service', discoveryUrl);
    });
    if (discovery.status === 401) {
      throw new CliError(
        `${discoveryUrl} refused this client's JWT (HTTP 401; the service logs why at warn as authFailure): ` +
          'trust it with --issuers-file PATH and restart the service with CDS_AUTH=required CDS_TRUSTED_ISSUERS=PATH, and check that its PUBLIC_BASE_URL is --service',
      );
    }
    if (discovery.status !== 200) throw new CliError(`${discoveryUrl} answered HTTP ${discovery.status} to discovery`);
    if (discovery.services.length === 0) throw new CliError(`${discoveryUrl} lists no service: is --service the CDS service's base URL?`);
    process.stdout.write(`discovery: HTTP ${discovery.status}, ${discovery.services.map((s) => `${s.hook} → ${s.id}`).join(', ')}\n`);
    const manifest = readDemoManifest();
    const patients = values.all ? manifest.patients : manifest.patients.filter((p) => p.id === (values.patient ?? 'zol-01'));
    if (patients.length === 0) patients.push({ id: values.patient!, file: '', name: values.patient!, story: '', expected: { 'patient-view': [], 'order-select': [], 'order-sign': [] } });
    let mismatches = 0;
    for (const patient of patients) {
      process.stdout.write(`\n${patient.id} ${patient.name}\n`);
      for (const hook of hooks) {
        const options = { prefetch: values['no-prefetch'] ? ('none' as const) : ('sandbox' as const) };
        const draft = zoledronicDraftOrders(patient.id);
        const call: HookCall = await (hook === 'patient-view'
          ? client.patientView(patient.id, options)
          : hook === 'order-select'
            ? client.orderSelect(patient.id, draft, options)
            : client.orderSign(patient.id, draft, options)
        ).catch((error: unknown) => {
          // The prefetch is read from the FHIR server first, then the service is called.
          throw unreachable(error, 'FHIR server or CDS service', `${values.fhir} / ${client.serviceBase}`);
        });
        if (call.status === 401) throw new CliError(`${client.serviceBase} refused this client's JWT on ${hook} (HTTP 401; the service logs why at warn as authFailure)`);
        const ids = ruleIdsOf(call.cards);
        const expected = patient.expected[hook];
        const same = values.all ? JSON.stringify(ids) === JSON.stringify(expected) : true;
        if (!same) mismatches += 1;
        process.stdout.write(`  ${hook}: HTTP ${call.status} ${ids.join(', ') || '(no cards)'}${same ? '' : `   ≠ expected ${expected.join(', ') || '(no cards)'}`}\n`);
        if (!values.all) for (const card of call.cards) process.stdout.write(`    [${card.indicator}] ${card.summary}\n`);
        if (values.feedback) {
          const card = call.cards.find((c) => c.suggestions?.some((s) => s.uuid));
          if (card) {
            const service = await client.serviceFor(hook);
            const result = await client.sendFeedback(service.id, [acceptedFeedback(card)]);
            process.stdout.write(`    feedback (accepted "${card.suggestions![0]!.label}"): HTTP ${result.status}\n`);
          }
        }
      }
    }
    if (values.all) process.stdout.write(`\n${mismatches === 0 ? 'all demo patients give the expected cards' : `${mismatches} hook call(s) differ from the manifest`}\n`);
    return mismatches === 0 ? 0 : 1;
  } finally {
    await issuer.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    // Expected failures are one line; anything else keeps its first line only (no stack for users).
    process.stderr.write(`cds-client: ${error instanceof CliError ? message : message.split('\n')[0]}\n`);
    process.exitCode = 1;
  },
);
