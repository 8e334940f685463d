import request from 'supertest';
import { openStore } from '../../src/store/open-store';
import type { Store } from '../../src/store/store';
import { buildTestApp, type TestApp } from '../support/app';
import { TEST_NOW } from '../support/clock';
import { accepted, card, DAY, hookCall } from '../support/store-data';

let store: Store;
let t: TestApp | undefined;
beforeEach(async () => {
  store = openStore('sqlite::memory:');
  await store.migrate();
});
afterEach(async () => {
  await t?.close();
  t = undefined;
  await store.close();
});

const shown = async () => (await store.feedbackSummary({ from: TEST_NOW - 400 * DAY, to: TEST_NOW + DAY, period: 'month' })).rows.reduce((n, r) => n + r.shown, 0);

async function seed() {
  const old = card('PV-RECOMMEND');
  const recent = card('PV-RECOMMEND');
  await store.recordHookCalls([hookCall([old], { calledAt: TEST_NOW - 120 * DAY }), hookCall([recent], { calledAt: TEST_NOW - 5 * DAY })]);
  await store.recordFeedback([accepted(old, TEST_NOW - 119 * DAY), accepted(recent, TEST_NOW - 5 * DAY)]);
  await store.claimJti('https://ehr.example', 'expired', TEST_NOW - 1000, TEST_NOW - 300_000);
}

test('CDS_RETENTION_DAYS: the purge runs at start-up (and on its timer), deleting rows older than N days', async () => {
  await seed();
  t = await buildTestApp({ store, env: { CDS_RETENTION_DAYS: '90' } });
  await t.app.retention.runOnce();
  expect(await shown()).toBe(1);
  const purgeLog = t.logs.find((l) => l.msg === 'retention purge');
  expect(purgeLog).toMatchObject({ hookCalls: 1, issuedCards: 1, feedback: 1, retentionDays: 90 });
  const metrics = (await request(t.app.server).get('/metrics')).text;
  expect(metrics).toContain('cds_retention_purged_rows_total{table="issued_cards"} 1');
  expect(metrics).toContain('cds_retention_purged_rows_total{table="jwt_replay"} 1');
});

test('without CDS_RETENTION_DAYS audit rows are kept; only expired jti entries go', async () => {
  await seed();
  t = await buildTestApp({ store });
  await t.app.retention.runOnce();
  expect(await shown()).toBe(2);
  const metrics = (await request(t.app.server).get('/metrics')).text;
  expect(metrics).toContain('cds_retention_purged_rows_total{table="jwt_replay"} 1');
  expect(metrics).toContain('cds_retention_purged_rows_total{table="issued_cards"} 0');
});
