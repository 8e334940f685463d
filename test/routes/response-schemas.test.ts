import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { AnyResource } from '../../src/engine/resource-index';
import { runHook } from '../../src/engine/run-hook';
import { validateHookRequest } from '../../src/engine/validate-request';
import { buildTestApp, type TestApp } from '../support/app';
import { projectCatalog } from '../support/catalog';
import { seededUuid, TEST_NOW } from '../support/clock';
import { inMemoryFhirClient } from '../support/in-memory-fhir-client';
import { hookRequest, prefetchFor, serviceForHook } from '../support/requests';
import { loadScenarios, type LoadedScenario } from '../support/scenarios';

/**
 * The hook route serializes `{cards}` with CdsResponseSchema (fast-json-stringify), which writes an
 * object's required members first, then the others in the schema's order, and drops members the
 * schema does not declare. For every clinical scenario the HTTP body must be byte for byte what
 * JSON.stringify makes of the engine's own cards: nothing dropped, nothing reordered. The SMART app
 * is "built" (a stub) so the app links with their appContext are on the cards too.
 */
const catalog = projectCatalog();
let t: TestApp;
let nextUuid = seededUuid();
let launchUrl: string;

beforeAll(async () => {
  const smartAppDir = join(mkdtempSync(join(tmpdir(), 'zol-response-schemas-')), 'built');
  mkdirSync(smartAppDir);
  writeFileSync(join(smartAppDir, 'launch.html'), '<!doctype html><title>launch</title>');
  writeFileSync(join(smartAppDir, 'index.html'), '<!doctype html><title>app</title>');
  t = await buildTestApp({ smartAppDir, uuid: () => nextUuid() });
  launchUrl = `${t.app.config.publicBaseUrl}/smart-app/launch.html`;
});
afterAll(() => t.close());

function callFor({ scenario, chart }: LoadedScenario): { serviceId: string; body: unknown } {
  const serviceId = serviceForHook(scenario.hook);
  const delivery = { prefetch: prefetchFor(serviceId, chart, scenario.patientId), hookInstance: '11111111-1111-4111-8111-111111111111' };
  const body = hookRequest(scenario.hook, {
    patientId: scenario.patientId,
    ...delivery,
    ...(scenario.draftOrders ? { draftOrders: scenario.draftOrders as AnyResource[] } : {}),
    ...(scenario.selections ? { selections: scenario.selections } : {}),
  });
  return { serviceId, body };
}

test('every scenario: the hook answer is byte for byte JSON.stringify of the engine cards', async () => {
  const scenarios = loadScenarios();
  expect(scenarios.length).toBeGreaterThan(50);
  let withAppLinks = 0;
  for (const loaded of scenarios) {
    const { serviceId, body } = callFor(loaded);
    nextUuid = seededUuid();
    const response = await request(t.app.server)
      .post(`/cds-services/${serviceId}`)
      .set('content-type', 'application/json')
      .send(body as object);
    expect({ scenario: loaded.file, status: response.status }).toEqual({ scenario: loaded.file, status: 200 });
    const service = catalog.services.get(serviceId)!;
    const deps = {
      catalog,
      fhirClient: inMemoryFhirClient(loaded.chart).client,
      now: () => TEST_NOW,
      uuid: seededUuid(),
      fhirTimeoutMs: 10_000,
      maxMedicationReads: 50,
      appLaunchUrl: launchUrl,
    };
    const outcome = await runHook(service, validateHookRequest(service, body), deps);
    expect({ scenario: loaded.file, body: response.text }).toEqual({ scenario: loaded.file, body: JSON.stringify({ cards: outcome.cards }) });
    if (response.text.includes('"appContext"')) withAppLinks += 1;
  }
  expect(withAppLinks).toBeGreaterThan(0);
});
