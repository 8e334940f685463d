import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { Card } from '../../src/schemas/cds-response';
import { buildTestApp, type TestApp } from '../support/app';
import { chartOf, zoledronicDraft } from '../support/fixtures';
import { generateSigningKey, jwksOf, signToken, writeIssuerFile, type SigningKey } from '../support/jwt';
import { ORDER_SIGN, orderRequest, prefetchFor } from '../support/requests';

/**
 * Issue 14, Medium 3–4 and Low 8, written as the attacks the review ran: two tenants of one EHR
 * and a second EHR share the service. Tenant B must not see or touch tenant A's cards and feedback,
 * override reasons must be the card's own (a patient name typed into one is refused, not stored),
 * a feedback flood is bounded by a per-client quota, and a NUL byte is a 400, not a store outage.
 */
const BASE = 'https://cds.tenants.example';
const EHR = 'https://ehr.tenants.example';
const OTHER_EHR = 'https://other-ehr.example';
const ADMIN = 'admin-token-for-tests-0123456789abcdef';
const chart = chartOf('premenopausal-hr-positive');
const PATIENT = (chart.find((r) => r.resourceType === 'Patient') as { id: string }).id;
const FEEDBACK_PATH = `/cds-services/${ORDER_SIGN}/feedback`;

let ehrKey: SigningKey;
let otherKey: SigningKey;
let dir: string;
let t: TestApp;

interface Caller {
  key: SigningKey;
  iss: string;
  tenant?: string;
}
let tenantA: Caller;
let tenantB: Caller;
let otherEhr: Caller;

beforeAll(async () => {
  [ehrKey, otherKey] = await Promise.all([generateSigningKey('ES384'), generateSigningKey('ES384')]);
  tenantA = { key: ehrKey, iss: EHR, tenant: 'hospital-a' };
  tenantB = { key: ehrKey, iss: EHR, tenant: 'hospital-b' };
  otherEhr = { key: otherKey, iss: OTHER_EHR };
  dir = mkdtempSync(join(tmpdir(), 'cds-tenants-'));
  t = await buildTestApp({
    env: {
      CDS_AUTH: 'required',
      PUBLIC_BASE_URL: BASE,
      CDS_ADMIN_TOKEN: ADMIN,
      CDS_DB_URL: `sqlite:${join(dir, 'cds.db')}`,
      CDS_FEEDBACK_COMMENTS: 'store',
      CDS_FEEDBACK_QUOTA_BYTES: '20000',
      CDS_RATE_LIMIT_MAX: '100000',
      CDS_TRUSTED_ISSUERS: writeIssuerFile([
        { iss: EHR, jwks: jwksOf(ehrKey), tenants: ['hospital-a', 'hospital-b'] },
        { iss: OTHER_EHR, jwks: jwksOf(otherKey) },
      ]),
    },
  });
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

async function bearer(caller: Caller, path: string): Promise<string> {
  return `Bearer ${await signToken(caller.key, caller.iss, `${BASE}${path}`, caller.tenant ? { claims: { tenant: caller.tenant } } : {})}`;
}

async function issueCards(caller: Caller): Promise<Card[]> {
  const path = `/cds-services/${ORDER_SIGN}`;
  const body = orderRequest('order-sign', { patientId: PATIENT, draftOrders: [zoledronicDraft(PATIENT)], prefetch: prefetchFor(ORDER_SIGN, chart, PATIENT) });
  const response = await request(t.app.server).post(path).set('authorization', await bearer(caller, path)).send(body);
  expect(response.status).toBe(200);
  return response.body.cards as Card[];
}

async function postFeedback(caller: Caller, feedback: unknown[]) {
  return request(t.app.server).post(FEEDBACK_PATH).set('authorization', await bearer(caller, FEEDBACK_PATH)).send({ feedback });
}

async function summaryFor(caller: Caller | 'admin') {
  const path = `${FEEDBACK_PATH}/summary`;
  const authorization = caller === 'admin' ? `Bearer ${ADMIN}` : await bearer(caller, path);
  const response = await request(t.app.server).get(`${path}?from=2026-11-01&to=2026-12-01&period=month`).set('authorization', authorization);
  expect(response.status).toBe(200);
  return response.body as { rows: { ruleId: string; shown: number; overridden: number; topOverrideReasons: { code?: string; display?: string }[] }[] };
}

/** A card of tenant A offering override reasons (the engine decides which; the test needs just one). */
function cardWithReasons(cards: Card[]): Card & { overrideReasons: NonNullable<Card['overrideReasons']> } {
  const card = cards.find((c) => (c.overrideReasons ?? []).length > 0);
  if (!card) throw new Error(`no card offering override reasons among ${cards.map((c) => c.source.topic?.code).join(', ')}`);
  return card as Card & { overrideReasons: NonNullable<Card['overrideReasons']> };
}

function databaseText(): string {
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('');
}

const at = (minute: number) => `2026-11-27T12:${String(minute).padStart(2, '0')}:00Z`;

test('tenant B and another EHR cannot record feedback on tenant A\'s card, and see none of A\'s data in their summary', async () => {
  const card = cardWithReasons(await issueCards(tenantA));
  const reason = card.overrideReasons[0]!;
  const override = { card: card.uuid, outcome: 'overridden', overrideReason: { reason: { system: reason.system, code: reason.code } }, outcomeTimestamp: at(1) };
  for (const intruder of [tenantB, otherEhr]) {
    const response = await postFeedback(intruder, [override]);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: 1, stored: 0, duplicates: 0, unknownCards: 1 });
  }
  expect((await postFeedback(tenantA, [override])).body).toEqual({ received: 1, stored: 1, duplicates: 0, unknownCards: 0 });

  const own = await summaryFor(tenantA);
  const row = own.rows.find((r) => r.ruleId === card.source.topic!.code)!;
  expect(row).toMatchObject({ shown: 1, overridden: 1, topOverrideReasons: [{ code: reason.code, display: reason.display }] });
  expect((await summaryFor(tenantB)).rows).toEqual([]);
  expect((await summaryFor(otherEhr)).rows).toEqual([]);
  // The operator (admin token) sees everything.
  expect((await summaryFor('admin')).rows).toEqual(own.rows);
});

test('an override reason the card did not offer is a 400 and nothing of the batch is stored; an offered one is stored with the card\'s own display', async () => {
  const cards = await issueCards(tenantA);
  const card = cardWithReasons(cards);
  const offered = card.overrideReasons[0]!;
  const before = (await summaryFor(tenantA)).rows.find((r) => r.ruleId === card.source.topic!.code)!.overridden;
  const phi = { system: offered.system, code: 'Maren Lindqvist MRN-100234', display: 'Maren Lindqvist, MRN-100234' };
  const refused = await postFeedback(tenantA, [{ card: card.uuid, outcome: 'overridden', overrideReason: { reason: phi }, outcomeTimestamp: at(2) }]);
  expect(refused.status).toBe(400);
  expect(refused.body.issue[0].details.coding[0].code).toBe('CDS_REQUEST_INVALID');
  expect(refused.body.issue[0].expression).toEqual(['feedback[0].overrideReason.reason']);
  const foreignSystem = await postFeedback(tenantA, [{ card: card.uuid, outcome: 'overridden', overrideReason: { reason: { system: 'https://evil.example', code: offered.code } }, outcomeTimestamp: at(3) }]);
  expect(foreignSystem.status).toBe(400);

  const stored = await postFeedback(tenantA, [
    { card: card.uuid, outcome: 'overridden', overrideReason: { reason: { system: offered.system, code: offered.code, display: 'Maren Lindqvist asked' } }, outcomeTimestamp: at(4) },
  ]);
  expect(stored.body).toMatchObject({ stored: 1 });
  const after = (await summaryFor(tenantA)).rows.find((r) => r.ruleId === card.source.topic!.code)!;
  expect(after.overridden).toBe(before + 1);
  expect(after.topOverrideReasons.every((r) => r.display === undefined || !r.display.includes('Lindqvist'))).toBe(true);
  expect(databaseText()).not.toContain('Lindqvist');
});

test('accepted suggestions must be the card\'s; the comment is the only free text and is capped', async () => {
  const cards = await issueCards(tenantA);
  const withSuggestion = cards.find((c) => (c.suggestions ?? []).length > 0)!;
  const foreign = await postFeedback(tenantA, [{ card: withSuggestion.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: 'MRN-100234' }], outcomeTimestamp: at(5) }]);
  expect(foreign.status).toBe(400);
  expect(foreign.body.issue[0].expression).toEqual(['feedback[0].acceptedSuggestions']);
  const long = await postFeedback(tenantA, [{ card: withSuggestion.uuid, outcome: 'overridden', overrideReason: { userComment: 'x'.repeat(1001) }, outcomeTimestamp: at(6) }]);
  expect(long.status).toBe(400);
  expect(long.body.issue[0].expression).toEqual(['feedback[0].overrideReason.userComment']);
});

test('a NUL byte anywhere in feedback is a 400 (never a 503), and the store stays up', async () => {
  const card = (await issueCards(tenantA))[0]!;
  for (const item of [
    { card: card.uuid, outcome: 'overridden', overrideReason: { userComment: 'a\u0000b' }, outcomeTimestamp: at(7) },
    { card: card.uuid, outcome: 'overridden', outcomeTimestamp: at(8), extension: { 'x\u0000': 1 } },
  ]) {
    const response = await postFeedback(tenantA, [item]);
    expect(response.status).toBe(400);
    expect(response.body.issue[0].details.coding[0].code).toBe('CDS_REQUEST_INVALID');
  }
  const metrics = await request(t.app.server).get('/metrics');
  expect(metrics.text).toMatch(/^cds_store_up 1$/m);
});

test('a feedback flood: unknown cards cost no storage; past its quota a client gets 429 and nothing is stored; other clients are unaffected', async () => {
  const sizeBefore = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  // 20 requests of 1000 items with 1000-character comments, all about cards never issued: ~20 MB sent.
  for (let r = 0; r < 20; r += 1) {
    const items = Array.from({ length: 1000 }, (_, i) => ({
      card: `00000000-0000-4000-8000-${String(r * 1000 + i).padStart(12, '0')}`,
      outcome: 'overridden',
      overrideReason: { userComment: 'y'.repeat(1000) },
      outcomeTimestamp: at(9),
    }));
    const response = await postFeedback(otherEhr, items);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ stored: 0, unknownCards: 1000 });
  }
  const grown = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0) - sizeBefore;
  expect(grown).toBeLessThan(2 * 1024 * 1024);

  // Tenant B's own cards, commented at length until its 20 000-byte quota is used up.
  const statuses: number[] = [];
  for (let round = 0; round < 8; round += 1) {
    const cards = await issueCards(tenantB);
    const response = await postFeedback(
      tenantB,
      cards.map((c, i) => ({ card: c.uuid, outcome: 'overridden', overrideReason: { userComment: 'z'.repeat(1000) }, outcomeTimestamp: at(10 + i) })),
    );
    statuses.push(response.status);
    if (response.status === 429) expect(response.body.issue[0].details.coding[0].code).toBe('CDS_FEEDBACK_QUOTA_EXCEEDED');
  }
  expect(statuses).toContain(429);
  expect(statuses.slice(statuses.indexOf(429)).every((s) => s === 429)).toBe(true);
  // Tenant A is a different client with its own quota.
  const card = (await issueCards(tenantA))[0]!;
  expect((await postFeedback(tenantA, [{ card: card.uuid, outcome: 'overridden', outcomeTimestamp: at(30) }])).status).toBe(200);
});
