import request from 'supertest';
import { openStore } from '../../src/store/open-store';
import type { Store } from '../../src/store/store';
import { buildTestApp, postHook, ruleIdsOf, type TestApp } from '../support/app';
import { flakyStore } from '../support/flaky-store';
import { chartOf } from '../support/fixtures';
import { describePostgres, POSTGRES_URL, testSchema, type TestSchema } from '../support/postgres';
import { ELIGIBILITY, patientViewRequest, prefetchFor } from '../support/requests';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const PATIENT = 'pt-candidate';
const chart = chartOf('candidate-postmenopausal');
const hookBody = () => patientViewRequest({ patientId: PATIENT, prefetch: prefetchFor(ELIGIBILITY, chart, PATIENT) });
const EXPECTED_RULES = ['PV-RECOMMEND', 'PV-CALCIUM-VITD'];

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const readyz = async (app: TestApp) => request(app.app.server).get('/readyz');
const metricsText = async (app: TestApp) => (await request(app.app.server).get('/metrics')).text;
const metricValue = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
const shownThisMonth = async (store: Store) =>
  (await store.feedbackSummary({ from: Date.parse('2026-11-01T00:00:00Z'), to: Date.parse('2026-12-01T00:00:00Z'), period: 'month' })).rows.map((r) => [r.ruleId, r.shown]);

describe('embedded store outage (SQLite behind a switch)', () => {
  let inner: Store;
  beforeEach(() => {
    inner = openStore('sqlite::memory:');
  });
  afterEach(() => inner.close());

  test('a hook call while the store is down still answers 200 with cards; the audit record waits, /readyz says degraded, and it is written when the store returns', async () => {
    const store = flakyStore(inner);
    t = await buildTestApp({ store, auditRetryBaseMs: 60_000 });
    expect((await readyz(t)).body).toMatchObject({ status: 'ready', store: { status: 'up', dialect: 'sqlite', auditQueued: 0 } });

    store.down = true;
    const response = await postHook(t.app, ELIGIBILITY, hookBody());
    expect(response.status).toBe(200);
    expect(ruleIdsOf(response.body.cards)).toEqual(EXPECTED_RULES);
    expect(await t.app.auditQueue.drain()).toBe(false);

    const degraded = await readyz(t);
    expect(degraded.status).toBe(200);
    expect(degraded.body).toMatchObject({ status: 'degraded', store: { status: 'unavailable', auditQueued: 1, auditDropped: 0 } });
    const during = await metricsText(t);
    expect(metricValue(during, 'cds_store_up')).toBe(0);
    expect(metricValue(during, 'cds_audit_queue_depth')).toBe(1);
    expect(metricValue(during, 'cds_store_errors_total{operation="recordHookCalls"}')).toBeGreaterThanOrEqual(1);
    expect(t.logs.some((l) => l.msg === 'audit write failed; records kept in memory and retried')).toBe(true);
    expect(await shownThisMonth(inner)).toEqual([]);

    store.down = false;
    expect(await t.app.auditQueue.drain()).toBe(true);
    expect((await readyz(t)).body).toMatchObject({ status: 'ready', store: { status: 'up', auditQueued: 0 } });
    expect(await shownThisMonth(inner)).toEqual([
      ['PV-CALCIUM-VITD', 1],
      ['PV-RECOMMEND', 1],
    ]);
    expect(metricValue(await metricsText(t), 'cds_store_up')).toBe(1);
  });

  test('a long outage: the queue keeps the newest CDS_AUDIT_QUEUE_MAX records, counts and logs the dropped ones', async () => {
    const store = flakyStore(inner);
    t = await buildTestApp({ store, auditRetryBaseMs: 60_000, env: { CDS_AUDIT_QUEUE_MAX: '2' } });
    store.down = true;
    for (let i = 0; i < 3; i++) expect((await postHook(t.app, ELIGIBILITY, hookBody())).status).toBe(200);
    await t.app.auditQueue.drain();
    expect((await readyz(t)).body.store).toMatchObject({ auditQueued: 2, auditDropped: 1 });
    expect(metricValue(await metricsText(t), 'cds_audit_records_dropped_total')).toBe(1);
    expect(t.logs.filter((l) => l.msg === 'audit queue full: oldest audit records dropped')).toHaveLength(1);
    store.down = false;
    expect(await t.app.auditQueue.drain()).toBe(true);
    expect(await shownThisMonth(inner)).toEqual([
      ['PV-CALCIUM-VITD', 2],
      ['PV-RECOMMEND', 2],
    ]);
  });

  test('the database unreachable at start-up: the service starts and answers hook calls, /readyz is degraded', async () => {
    // Nothing listens on port 1: every connection is refused.
    t = await buildTestApp({ env: { CDS_DB_URL: 'postgres://postgres@127.0.0.1:1/none' } });
    const response = await postHook(t.app, ELIGIBILITY, hookBody());
    expect(response.status).toBe(200);
    expect(ruleIdsOf(response.body.cards)).toEqual(EXPECTED_RULES);
    const ready = await readyz(t);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'degraded', store: { status: 'unavailable', dialect: 'postgres', auditQueued: 1 } });
    expect(t.logs.some((l) => l.msg === 'store unreachable at start-up; cards are served, audit is queued')).toBe(true);
  });

  test('a store that fails for another reason than connectivity stops start-up', async () => {
    const broken = flakyStore(inner);
    broken.migrate = async () => {
      throw Object.assign(new Error('permission denied for schema public'), { code: '42501' });
    };
    await expect(buildTestApp({ store: broken })).rejects.toThrow('permission denied');
  });
});

describePostgres('PostgreSQL outage (the TCP connection is cut)', () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  let observer: Store;
  beforeEach(async () => {
    schema = testSchema('outage');
    const target = new URL(POSTGRES_URL!);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    observer = openStore(schema.url);
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await observer.close();
    await proxy.close();
    await schema.drop();
  });

  test('cards keep flowing while PostgreSQL is unreachable; the audit is written once it is back', async () => {
    const viaProxy = new URL(schema.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    t = await buildTestApp({ env: { CDS_DB_URL: viaProxy.toString() }, auditRetryBaseMs: 60_000 });
    expect((await postHook(t.app, ELIGIBILITY, hookBody())).status).toBe(200);
    expect(await t.app.auditQueue.drain()).toBe(true);

    await proxy.cut();
    const during = await postHook(t.app, ELIGIBILITY, hookBody());
    expect(during.status).toBe(200);
    expect(ruleIdsOf(during.body.cards)).toEqual(EXPECTED_RULES);
    expect(await t.app.auditQueue.drain()).toBe(false);
    expect((await readyz(t)).body).toMatchObject({ status: 'degraded', store: { status: 'unavailable', dialect: 'postgres', auditQueued: 1 } });
    const feedback = await request(t.app.server)
      .post(`/cds-services/${ELIGIBILITY}/feedback`)
      .send({ feedback: [{ card: during.body.cards[0].uuid, outcome: 'overridden', outcomeTimestamp: '2026-11-27T12:01:00Z' }] });
    expect(feedback.status).toBe(503);

    await proxy.restore();
    expect(await t.app.auditQueue.drain()).toBe(true);
    expect((await readyz(t)).body).toMatchObject({ status: 'ready', store: { status: 'up', auditQueued: 0 } });
    expect(await shownThisMonth(observer)).toEqual([
      ['PV-CALCIUM-VITD', 2],
      ['PV-RECOMMEND', 2],
    ]);
  });
});
