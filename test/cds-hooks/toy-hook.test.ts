import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import request from 'supertest';
import { registerHookModule } from '../../src/cds-hooks/registry';
import { KnowledgeError } from '../../src/knowledge/load-catalog';
import { loadCatalog } from '../../src/knowledge/knowledge-files-on-disk';
import { buildTestApp, postHook, ruleIdsOf, type TestApp } from '../support/app';
import { PROJECT_ROOT } from '../support/catalog';
import { ELIGIBILITY, prefetchFor } from '../support/requests';
import { loadScenarios } from '../support/scenarios';

/**
 * Adding a hook takes a hook module and a hooks/*.yaml service, and no other TypeScript: this test
 * registers a toy `appointment-book` module, serves a YAML service for it next to this repository's
 * knowledge, and calls it over HTTP like an EHR would.
 */
registerHookModule({
  name: 'appointment-book',
  requestSchema: Type.Object(
    {
      hook: Type.Literal('appointment-book'),
      hookInstance: Type.String({ format: 'uuid' }),
      fhirServer: Type.Optional(Type.String({ format: 'uri' })),
      prefetch: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      context: Type.Object({
        userId: Type.String({ pattern: '^(Practitioner|PractitionerRole|Patient)/[A-Za-z0-9\\-.]{1,64}$' }),
        patientId: Type.String({ pattern: '^[A-Za-z0-9\\-.]{1,64}$' }),
        appointments: Type.Object({ resourceType: Type.Literal('Bundle') }, { additionalProperties: true }),
      }),
    },
    { additionalProperties: true },
  ),
  contextTokens: ['context.userId', 'context.patientId'],
  draftOrders: false,
});

const SERVICE = 'zoledronic-acid-at-booking';
const root = mkdtempSync(join(tmpdir(), 'cds-toy-hook-'));
let t: TestApp;

beforeAll(async () => {
  for (const dir of ['fhir-mappings', 'rules']) cpSync(join(PROJECT_ROOT, dir), join(root, dir), { recursive: true });
  // The eligibility service's prefetch and rules, offered when an appointment is booked.
  const eligibility = readFileSync(join(PROJECT_ROOT, 'hooks', `${ELIGIBILITY}.yaml`), 'utf8');
  cpSync(join(PROJECT_ROOT, 'hooks'), join(root, 'hooks'), { recursive: true });
  writeFileSync(
    join(root, 'hooks', `${SERVICE}.yaml`),
    eligibility.replace(`id: ${ELIGIBILITY}`, `id: ${SERVICE}`).replace(/^hooks: \[patient-view\]$/m, 'hooks: [appointment-book]'),
  );
  t = await buildTestApp({ catalog: loadCatalog({ root }) });
});

afterAll(async () => {
  await t?.close();
  rmSync(root, { recursive: true, force: true });
});

function booking(context: Record<string, unknown>, prefetch: Record<string, unknown>) {
  return { hook: 'appointment-book', hookInstance: '22222222-2222-4222-8222-222222222222', context, prefetch };
}

test('discovery lists the new service under its hook', async () => {
  const response = await request(t.app.server).get('/cds-services');
  expect(response.status).toBe(200);
  expect(response.body.services).toContainEqual(expect.objectContaining({ id: SERVICE, hook: 'appointment-book' }));
});

test('a booking for a candidate patient gets the same cards as patient-view', async () => {
  const { scenario, chart } = loadScenarios().find((s) => s.file.endsWith('01-recommend-postmenopausal-node-positive.json'))!;
  const context = { userId: 'Practitioner/onc-1', patientId: scenario.patientId, appointments: { resourceType: 'Bundle', type: 'collection', entry: [] } };
  const response = await postHook(t.app, SERVICE, booking(context, prefetchFor(ELIGIBILITY, chart, scenario.patientId)));
  expect(response.status).toBe(200);
  expect(ruleIdsOf(response.body.cards)).toEqual(scenario.expect.rules);
});

test("the hook module's schema validates the request: a missing context field is a 400 naming it", async () => {
  const response = await postHook(t.app, SERVICE, booking({ userId: 'Practitioner/onc-1', patientId: 'p1' }, {}));
  expect(response.status).toBe(400);
  expect(JSON.stringify(response.body)).toContain('appointments');
});

test('a service naming a hook no module defines stops the knowledge from loading', () => {
  const broken = mkdtempSync(join(tmpdir(), 'cds-toy-hook-'));
  try {
    for (const dir of ['fhir-mappings', 'rules', 'hooks']) cpSync(join(root, dir), join(broken, dir), { recursive: true });
    const yaml = readFileSync(join(broken, 'hooks', `${SERVICE}.yaml`), 'utf8');
    writeFileSync(join(broken, 'hooks', `${SERVICE}.yaml`), yaml.replace('hooks: [appointment-book]', 'hooks: [encounter-discharge]'));
    expect(() => loadCatalog({ root: broken })).toThrow(KnowledgeError);
    expect(() => loadCatalog({ root: broken })).toThrow(
      /hooks\[0\]: unknown hook 'encounter-discharge' \(known: patient-view, order-select, order-sign, appointment-book\)/,
    );
  } finally {
    rmSync(broken, { recursive: true, force: true });
  }
});
