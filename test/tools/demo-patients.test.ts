import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEMO_PATIENTS_DIR, readDemoManifest } from '../../tools/demo-fhir/load-demo-patients';
import { demoPatientTable } from '../../tools/demo-fhir/readme-table';
import { renderDemoFiles } from '../../tools/demo-fhir/write-demo-patients';

/**
 * The demo charts are realistic enough for the sandbox (names, code.text, receptors, staging, labs
 * with units and dates, medications, procedures), generated from one source, and documented.
 */
type Resource = Record<string, unknown> & { resourceType: string; id: string };
const manifest = readDemoManifest();
const bundles = manifest.patients.map((p) => ({ patient: p, bundle: JSON.parse(readFileSync(join(DEMO_PATIENTS_DIR, p.file), 'utf8')) as { resourceType: string; type: string; entry: { resource: Resource; request: { method: string; url: string } }[] } }));
const codesOf = (r: Resource) => (((r.code as { coding?: { code: string }[] } | undefined)?.coding ?? []).map((c) => c.code));

test('the committed files are exactly what tools/demo-fhir/demo-patients.ts generates (npm run demo:patients)', () => {
  for (const [name, text] of renderDemoFiles()) expect([name, readFileSync(join(DEMO_PATIENTS_DIR, name), 'utf8')]).toEqual([name, text]);
});

test('at least 14 patients, one story each, with unique ids', () => {
  expect(manifest.patients.length).toBeGreaterThanOrEqual(14);
  expect(new Set(manifest.patients.map((p) => p.id)).size).toBe(manifest.patients.length);
  expect(manifest.patients.every((p) => p.story.length > 20)).toBe(true);
});

test.each(bundles.map((b) => [b.patient.id, b] as const))('%s is a realistic, clearly synthetic transaction bundle', (patientId, { bundle }) => {
  expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'transaction' });
  for (const { resource, request } of bundle.entry) expect(request).toEqual({ method: 'PUT', url: `${resource.resourceType}/${resource.id}` });
  const resources = bundle.entry.map((e) => e.resource);
  const patient = resources.find((r) => r.resourceType === 'Patient')!;
  expect(patient.id).toBe(patientId);
  expect(patient.meta).toMatchObject({ tag: [{ code: 'synthetic' }] });
  expect((patient.name as { given: string[]; family: string }[])[0]!.given.length).toBeGreaterThan(0);
  for (const condition of resources.filter((r) => r.resourceType === 'Condition')) expect((condition.code as { text?: string }).text).toBeTruthy();
  const observations = resources.filter((r) => r.resourceType === 'Observation');
  const codes = new Set(observations.flatMap(codesOf));
  for (const required of ['85337-4', '85339-0', '85319-2', '21902-2', '29463-7']) expect([patientId, required, codes.has(required)]).toEqual([patientId, required, true]);
  expect(observations.some((o) => ['2160-0', '14682-9'].some((c) => codesOf(o).includes(c)) && typeof o.effectiveDateTime === 'string' && (o.valueQuantity as { unit?: string }).unit)).toBe(true);
  expect(resources.some((r) => r.resourceType.startsWith('Medication'))).toBe(true);
  expect(resources.filter((r) => r.resourceType === 'Procedure').length).toBeGreaterThanOrEqual(2);
  for (const r of resources) {
    const ref = ((r.subject ?? r.patient) as { reference?: string } | undefined)?.reference;
    if (ref) expect(ref).toBe(`Patient/${patientId}`);
  }
});

test('the README demo patient table matches the manifest', () => {
  const readme = readFileSync(resolve(__dirname, '..', '..', 'README.md'), 'utf8');
  const table = /<!-- demo-patients:start -->\n([\s\S]*?)\n<!-- demo-patients:end -->/.exec(readme)?.[1];
  expect(table).toBe(demoPatientTable());
});
