import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { readDemoManifest } from '../../tools/demo-fhir/load-demo-patients';

/**
 * The offline CLI as an informaticist runs it: built with `npm run build`, invoked as
 * `npx zoledronic-cds evaluate …` (or the compiled file), on the demo bundles and on a bulk-data
 * NDJSON export made from them. As of the demo anchor date the answers must be the manifest's.
 */
const ROOT = resolve(__dirname, '..', '..');
const PATIENTS = join(ROOT, 'examples', 'patients');
const CLI = join(ROOT, 'dist', 'cli', 'zoledronic-cds.js');
const run = promisify(execFile);
const manifest = readDemoManifest();
const AS_OF = `${manifest.anchorDate}T12:00:00Z`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], command: 'node' | 'npx' = 'node'): Promise<Result> {
  const [file, argv] = command === 'npx' ? ['npx', ['--no-install', 'zoledronic-cds', ...args]] : [process.execPath, [CLI, ...args]];
  try {
    const { stdout, stderr } = await run(file as string, argv as string[], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

type Json = Record<string, unknown>;
const bundleOf = (file: string) => JSON.parse(readFileSync(join(PATIENTS, file), 'utf8')) as { entry: { resource: Json }[] };

let work: string;
let ndjsonDir: string;

beforeAll(() => {
  // The server half of `npm run build`: rebuilding the SMART app here would empty dist/smart-app
  // under the browser test running in the other jest worker.
  execFileSync('npm', ['run', 'build:server'], { cwd: ROOT, stdio: 'pipe' });
  work = mkdtempSync(join(tmpdir(), 'zol-cli-'));
  // A bulk-data export of all demo patients: one Type.000.ndjson per resource type.
  ndjsonDir = join(work, 'export');
  execFileSync('mkdir', ['-p', ndjsonDir]);
  const byType = new Map<string, string[]>();
  for (const patient of manifest.patients) {
    for (const { resource } of bundleOf(patient.file).entry) {
      if (resource.resourceType === 'Practitioner' && byType.get('Practitioner')?.length) continue;
      const lines = byType.get(resource.resourceType as string) ?? [];
      lines.push(JSON.stringify(resource));
      byType.set(resource.resourceType as string, lines);
    }
  }
  for (const [type, lines] of byType) writeFileSync(join(ndjsonDir, `${type}.000.ndjson`), `${lines.join('\n')}\n`);
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('npx zoledronic-cds evaluate <bundle> prints the cards of that patient', async () => {
  const result = await cli(['evaluate', join(PATIENTS, '01-postmenopausal-candidate.json'), '--now', AS_OF], 'npx');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^Patient zol-01 \(Margaret Ann Okafor\): patient-view, as of 2026-11-27: 2 card\(s\)/);
  expect(result.stdout).toContain('[INFO] PV-RECOMMEND: Adjuvant zoledronic acid 4 mg IV every 6 months is recommended');
  expect(result.stdout).toContain('Suggestion (recommended): Order zoledronic acid 4 mg IV every 6 months');
  expect(result.stdout).toContain('[INFO] PV-CALCIUM-VITD: Start calcium and vitamin D supplements');
}, 60_000);

test('an NDJSON export of many patients: a summary table with every patient’s rule ids, progress on stderr', async () => {
  const result = await cli(['evaluate', ndjsonDir, '--now', AS_OF]);
  expect(result.code).toBe(0);
  const rows = result.stdout.split('\n').filter((line) => /^zol-\d\d /.test(line));
  expect(rows).toHaveLength(manifest.patients.length);
  for (const patient of manifest.patients) {
    const row = rows.find((r) => r.startsWith(`${patient.id} `))!;
    const ids = row.split(/\s{2,}/).at(-1)!;
    expect([patient.id, ids === '—' ? [] : ids.split(', ')]).toEqual([patient.id, patient.expected['patient-view']]);
  }
  expect(result.stdout).toContain('20 card(s) in total: PV-NOT-FOR-RECURRENCE ×3, PV-RECOMMEND ×3, PV-CALCIUM-VITD ×2, PV-COURSE-COMPLETE ×2');
  expect(result.stderr).toContain('read Observation.000.ndjson:');
  expect(result.stderr).toContain(`${manifest.patients.length}/${manifest.patients.length} patients (100%)`);
}, 60_000);

test('--hook order-select --format json on the export: each patient gets the order checks the manifest expects', async () => {
  const result = await cli(['evaluate', ndjsonDir, '--hook', 'order-select', '--format', 'json', '--now', AS_OF, '--quiet']);
  expect(result.code).toBe(0);
  expect(result.stderr).toBe('');
  const output = JSON.parse(result.stdout) as { hook: string; service: string; summary: { patients: number }; patients: { patientId: string; ruleIds: string[]; cards: { uuid: string }[] }[] };
  expect(output).toMatchObject({ hook: 'order-select', service: 'zoledronic-acid-order-select', summary: { patients: manifest.patients.length } });
  const actual = Object.fromEntries(output.patients.map((p) => [p.patientId, p.ruleIds]));
  expect(actual).toEqual(Object.fromEntries(manifest.patients.map((p) => [p.id, p.expected['order-select']])));
}, 60_000);

test('--order: a 5 mg (Reclast) yearly order over 15 minutes is flagged as not the adjuvant regimen', async () => {
  const order = {
    resourceType: 'MedicationRequest',
    id: 'reclast-draft',
    status: 'draft',
    intent: 'order',
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '705824', display: 'zoledronic acid 5 MG per 100 ML injection' }] },
    dosageInstruction: [
      {
        timing: { repeat: { frequency: 1, period: 1, periodUnit: 'a', duration: 15, durationUnit: 'min' } },
        doseAndRate: [{ doseQuantity: { value: 5, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }],
      },
    ],
  };
  const orderFile = join(work, 'reclast.json');
  writeFileSync(orderFile, JSON.stringify(order));
  const result = await cli(['evaluate', join(PATIENTS, '12-no-dental-exam.json'), '--hook', 'order-select', '--order', orderFile, '--format', 'json', '--now', AS_OF]);
  expect(result.code).toBe(0);
  const ids = (JSON.parse(result.stdout) as { patients: { ruleIds: string[] }[] }).patients[0]!.ruleIds;
  expect(ids).toEqual(['OS-DENTAL', 'OS-REGIMEN', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE']);
}, 60_000);

test('a Synthea-style transaction Bundle (urn:uuid fullUrls and references) is linked like a server would', async () => {
  const bundle = bundleOf('11-hypocalcaemia.json');
  const uuidOf = (resource: Json) => `urn:uuid:00000000-0000-4000-8000-${String(resource.id).replace(/[^0-9a-f]/g, '').padEnd(12, '0').slice(0, 12)}${bundle.entry.indexOf(bundle.entry.find((e) => e.resource === resource)!)}`;
  const patient = bundle.entry.find((e) => e.resource.resourceType === 'Patient')!.resource;
  const patientUrl = uuidOf(patient);
  const entry = bundle.entry.map(({ resource }) => {
    const copy = JSON.parse(JSON.stringify(resource).replaceAll('"Patient/zol-11"', `"${patientUrl}"`)) as Json;
    const fullUrl = resource === patient ? patientUrl : uuidOf(resource);
    delete copy.id;
    return { fullUrl, resource: copy, request: { method: 'POST', url: String(resource.resourceType) } };
  });
  const file = join(work, 'synthea-style.json');
  writeFileSync(file, JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }));
  const result = await cli(['evaluate', file, '--hook', 'order-select', '--format', 'json', '--now', AS_OF]);
  expect(result.code).toBe(0);
  const [only] = (JSON.parse(result.stdout) as { patients: { patientId: string; ruleIds: string[] }[] }).patients;
  expect(only!.patientId).toBe(patientUrl.slice('urn:uuid:'.length));
  expect(only!.ruleIds).toEqual(manifest.patients.find((p) => p.id === 'zol-11')!.expected['order-select']);
}, 60_000);

test('usage and input errors: exit 2 with the usage, exit 1 with one clear line', async () => {
  const usage = await cli(['evaluate']);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain('missing <bundle.json | ndjson-dir>');
  expect(usage.stderr).toContain('Usage: zoledronic-cds evaluate');
  const badHook = await cli(['evaluate', PATIENTS, '--hook', 'encounter-start']);
  expect(badHook.code).toBe(2);
  const missing = await cli(['evaluate', join(work, 'nope.json')]);
  expect(missing).toMatchObject({ code: 1, stdout: '' });
  expect(missing.stderr).toBe(`zoledronic-cds: ${join(work, 'nope.json')}: no such file or directory\n`);
  const notNdjson = await cli(['evaluate', PATIENTS]);
  expect(notNdjson.code).toBe(1);
  expect(notNdjson.stderr).toContain('no .ndjson files');
}, 60_000);
