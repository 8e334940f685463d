import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readDemoManifest } from '../demo-fhir/load-demo-patients';
import { acceptedFeedback, CdsClient, ruleIdsOf, zoledronicDraftOrders, type HookCall, type HookName } from './cds-client';
import { startHarnessIssuer } from './issuer';

/**
 * `npm run cds-client -- [--service URL] [--fhir URL] [--patient id | --all] [--hook …]`
 * Drives a running service the way the CDS Hooks sandbox does (discovery, sandbox-style prefetch,
 * ES384 JWT per call) and prints the cards. With --all it checks every demo patient against the
 * expected rule ids in examples/patients/manifest.json and exits 1 on any difference.
 * --issuers-file PATH writes the CDS_TRUSTED_ISSUERS entry for this run's key (inline JWKS).
 */
const HOOKS: HookName[] = ['patient-view', 'order-select', 'order-sign'];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      service: { type: 'string', default: 'http://localhost:8080' },
      fhir: { type: 'string', default: 'http://localhost:8081' },
      patient: { type: 'string' },
      all: { type: 'boolean', default: false },
      hook: { type: 'string' },
      'no-prefetch': { type: 'boolean', default: false },
      feedback: { type: 'boolean', default: false },
      'issuers-file': { type: 'string' },
    },
  });
  const hooks = values.hook ? [values.hook as HookName] : HOOKS;
  if (hooks.some((h) => !HOOKS.includes(h))) throw new TypeError(`--hook must be one of ${HOOKS.join(', ')}`);
  const issuer = await startHarnessIssuer();
  try {
    if (values['issuers-file']) writeFileSync(values['issuers-file'], `${JSON.stringify([issuer.trustedIssuer('inline')], null, 2)}\n`);
    process.stdout.write(`client issuer ${issuer.iss} (JWKS ${issuer.jwksUri}, kid ${issuer.key.kid})\n`);
    const client = new CdsClient({ serviceBase: values.service!, fhirServer: values.fhir!, tokenFor: issuer.tokenFor });
    const discovery = await client.discover();
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
        const call: HookCall =
          hook === 'patient-view' ? await client.patientView(patient.id, options) : hook === 'order-select' ? await client.orderSelect(patient.id, draft, options) : await client.orderSign(patient.id, draft, options);
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
    process.stderr.write(`cds-client: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
