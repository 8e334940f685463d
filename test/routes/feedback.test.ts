import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { TokenRejectedError, type TokenVerifier } from '../../src/auth/verify-token';
import { openStore } from '../../src/store/open-store';
import type { Store } from '../../src/store/store';
import type { Card } from '../../src/schemas/cds-response';
import { buildTestApp, cardFor, postHook, type TestApp } from '../support/app';
import { flakyStore } from '../support/flaky-store';
import { chartOf } from '../support/fixtures';
import { ELIGIBILITY, ORDER_SELECT, patientViewRequest, prefetchFor } from '../support/requests';

const PATIENT = 'pt-candidate';
const chart = chartOf('candidate-postmenopausal');
const HMAC_KEY = 'test-audit-key-0123456789abcdef0123456789';

let dir: string;
let dbPath: string;
let store: Store;
let t: TestApp;

async function start(env: Record<string, string> = {}, extra: Parameters<typeof buildTestApp>[0] = {}) {
  t = await buildTestApp({ env: { CDS_AUDIT_HMAC_KEY: HMAC_KEY, ...env }, store, ...extra });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cds-feedback-'));
  dbPath = join(dir, 'cds.db');
  store = openStore(`sqlite:${dbPath}`);
});
afterEach(async () => {
  await t?.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function issueCards(): Promise<Card[]> {
  const response = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, prefetch: prefetchFor(ELIGIBILITY, chart, PATIENT) }));
  expect(response.status).toBe(200);
  return response.body.cards as Card[];
}

const postFeedback = (body: unknown, serviceId = ELIGIBILITY) =>
  request(t.app.server).post(`/cds-services/${serviceId}/feedback`).set('content-type', 'application/json').send(body as object);

const summary = (query: string, serviceId = ELIGIBILITY, authorization?: string) => {
  const req = request(t.app.server).get(`/cds-services/${serviceId}/feedback/summary${query}`);
  return authorization ? req.set('authorization', authorization) : req;
};

/** Everything SQLite has on disk for this database (main file and WAL), as text. */
function databaseBytes(): string {
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('');
}

describe('POST /cds-services/{id}/feedback', () => {
  test('accepted and overridden cards: 200, stored, and the summary counts them under the rule that produced each card', async () => {
    await start();
    const cards = await issueCards();
    const recommend = cardFor(cards, 'PV-RECOMMEND')!;
    const calcium = cardFor(cards, 'PV-CALCIUM-VITD')!;
    const response = await postFeedback({
      feedback: [
        { card: recommend.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: recommend.suggestions![0]!.uuid }], outcomeTimestamp: '2026-11-27T12:05:00Z' },
        {
          card: calcium.uuid,
          outcome: 'overridden',
          // This card offers no override reasons, so only a comment (issue 14: a reason must be one the card offered).
          overrideReason: { userComment: 'on calcium' },
          outcomeTimestamp: '2026-11-27T12:06:00.250Z',
        },
      ],
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ received: 2, stored: 2, duplicates: 0, unknownCards: 0 });

    const report = await summary('?from=2026-11-27&to=2026-11-28&period=day');
    expect(report.status).toBe(200);
    expect(report.body).toEqual({
      serviceId: ELIGIBILITY,
      from: '2026-11-27T00:00:00.000Z',
      to: '2026-11-28T00:00:00.000Z',
      period: 'day',
      rows: [
        {
          ruleId: 'PV-CALCIUM-VITD',
          period: '2026-11-27',
          shown: 1,
          accepted: 0,
          overridden: 1,
          topOverrideReasons: [{ cards: 1 }],
        },
        { ruleId: 'PV-RECOMMEND', period: '2026-11-27', shown: 1, accepted: 1, overridden: 0, topOverrideReasons: [] },
      ],
      unknownCardFeedback: 0,
    });
    // The other service's summary is separate.
    expect((await summary('?from=2026-11-27&to=2026-11-28', ORDER_SELECT)).body.rows).toEqual([]);
  });

  test("the spec's examples, about cards this service never issued: counted as unknown and not stored (issue 14: storage is not open to arbitrary uuids)", async () => {
    await start();
    const examples = [
      { card: '4e0a3a1e-3283-4575-ab82-028d55fe2719', outcome: 'accepted', acceptedSuggestions: [{ id: 'e56e1945-20b3-4393-8503-a1a20fd73152' }], outcomeTimestamp: '2026-11-27T10:05:31Z' },
      { card: 'f6b95768-b1c8-40dc-8385-bf3504b82ffb', outcome: 'overridden', outcomeTimestamp: '2026-11-27T00:00:00Z' },
      {
        card: '9368d37b-283f-44a0-93ea-547cebab93ed',
        outcome: 'overridden',
        overrideReason: { reason: { code: 'd7ecf885', system: 'https://example.com/cds-hooks/override-reason-system' }, userComment: 'A comment entered by the clinician.' },
        outcomeTimestamp: '2026-11-27T00:00:00Z',
      },
    ];
    const first = await postFeedback({ feedback: examples });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ received: 3, stored: 0, duplicates: 0, unknownCards: 3 });
    const report = await summary('?from=2026-11-01&to=2026-12-01&period=month');
    expect(report.body).toMatchObject({ rows: [], unknownCardFeedback: 0 });
  });

  test('a resend is stored once; the same instant written another way (offset, upper-case uuid, urn prefix) is the same item', async () => {
    await start();
    const card = (await issueCards())[1]!;
    const item = { card: card.uuid, outcome: 'overridden', outcomeTimestamp: '2026-11-27T00:00:00Z' };
    expect((await postFeedback({ feedback: [item] })).body).toEqual({ received: 1, stored: 1, duplicates: 0, unknownCards: 0 });
    expect((await postFeedback({ feedback: [item] })).body).toEqual({ received: 1, stored: 0, duplicates: 1, unknownCards: 0 });
    const sameInstant = await postFeedback({ feedback: [{ ...item, card: `urn:uuid:${card.uuid.toUpperCase()}`, outcomeTimestamp: '2026-11-27T01:00:00+01:00' }] });
    expect(sameInstant.body).toEqual({ received: 1, stored: 0, duplicates: 1, unknownCards: 0 });
  });

  test.each([
    ['no feedback array', {}, 'feedback'],
    ['an empty batch', { feedback: [] }, 'feedback'],
    ['a missing card', { feedback: [{ outcome: 'overridden', outcomeTimestamp: '2026-11-27T12:00:00Z' }] }, 'feedback[0].card'],
    ['a card that is not a uuid', { feedback: [{ card: 'card-1', outcome: 'overridden', outcomeTimestamp: '2026-11-27T12:00:00Z' }] }, 'feedback[0].card'],
    ['an unknown outcome', { feedback: [{ card: '4e0a3a1e-3283-4575-ab82-028d55fe2719', outcome: 'ignored', outcomeTimestamp: '2026-11-27T12:00:00Z' }] }, 'feedback[0].outcome'],
    ['accepted without acceptedSuggestions', { feedback: [{ card: '4e0a3a1e-3283-4575-ab82-028d55fe2719', outcome: 'accepted', outcomeTimestamp: '2026-11-27T12:00:00Z' }] }, 'feedback[0].acceptedSuggestions'],
    ['an accepted suggestion without id', { feedback: [{ card: '4e0a3a1e-3283-4575-ab82-028d55fe2719', outcome: 'accepted', acceptedSuggestions: [{}], outcomeTimestamp: '2026-11-27T12:00:00Z' }] }, 'feedback[0].acceptedSuggestions[0].id'],
    ['a timestamp without time', { feedback: [{ card: '4e0a3a1e-3283-4575-ab82-028d55fe2719', outcome: 'overridden', outcomeTimestamp: '2026-11-27' }] }, 'feedback[0].outcomeTimestamp'],
    ['a missing timestamp', { feedback: [{ card: '4e0a3a1e-3283-4575-ab82-028d55fe2719', outcome: 'overridden' }] }, 'feedback[0].outcomeTimestamp'],
    ['a reason without code', { feedback: [{ card: '4e0a3a1e-3283-4575-ab82-028d55fe2719', outcome: 'overridden', overrideReason: { reason: { system: 'https://x' } }, outcomeTimestamp: '2026-11-27T12:00:00Z' }] }, 'feedback[0].overrideReason.reason.code'],
  ])('%s: 400 OperationOutcome naming the field, and nothing of the batch is stored', async (_name, body, field) => {
    await start();
    const good = { card: 'f6b95768-b1c8-40dc-8385-bf3504b82ffb', outcome: 'overridden', outcomeTimestamp: '2026-11-27T12:00:00Z' };
    const batch = Array.isArray((body as { feedback?: unknown }).feedback) && (body as { feedback: unknown[] }).feedback.length > 0
      ? { feedback: [...(body as { feedback: unknown[] }).feedback, good] }
      : body;
    const response = await postFeedback(batch);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/application\/fhir\+json/);
    expect(response.body.resourceType).toBe('OperationOutcome');
    expect(response.body.issue[0].details.coding[0].code).toBe('CDS_REQUEST_INVALID');
    expect(response.body.issue[0].expression).toEqual([field]);
    expect((await summary('?from=2026-11-01&to=2026-12-01')).body.unknownCardFeedback).toBe(0);
  });

  test('concurrent feedback requests with overlapping items: each item stored exactly once', async () => {
    await start();
    const cards = [...(await issueCards()), ...(await issueCards()), ...(await issueCards())];
    const items = cards.flatMap((c, i) => [
      { card: c.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: c.suggestions![0]!.uuid }], outcomeTimestamp: `2026-11-27T12:1${i}:00Z` },
      { card: c.uuid, outcome: 'overridden', outcomeTimestamp: `2026-11-27T12:2${i}:00Z` },
    ]);
    // 12 distinct items; 8 clients each send an overlapping half of them, all at once.
    const responses = await Promise.all(Array.from({ length: 8 }, (_, k) => postFeedback({ feedback: items.filter((_, i) => (i + k) % 2 === 0) })));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(responses.reduce((n, r) => n + r.body.stored, 0)).toBe(12);
    expect(responses.reduce((n, r) => n + r.body.duplicates, 0)).toBe(8 * 6 - 12);
    const rows = (await summary('?from=2026-11-27&to=2026-11-28')).body.rows as { shown: number; accepted: number; overridden: number }[];
    expect(rows.reduce((n, r) => n + r.accepted, 0)).toBe(6);
    expect(rows.reduce((n, r) => n + r.overridden, 0)).toBe(6);
  });

  test('unknown service: 404 for feedback and for its summary', async () => {
    await start();
    const response = await postFeedback({ feedback: [{ card: 'f6b95768-b1c8-40dc-8385-bf3504b82ffb', outcome: 'overridden', outcomeTimestamp: '2026-11-27T12:00:00Z' }] }, 'no-such-service');
    expect(response.status).toBe(404);
    expect(response.body.issue[0].details.coding[0].code).toBe('CDS_SERVICE_NOT_FOUND');
    expect((await summary('', 'no-such-service')).status).toBe(404);
  });

  test('store unavailable: 503 OperationOutcome with Retry-After; the client resends later and it is stored once', async () => {
    const flaky = flakyStore(store);
    t = await buildTestApp({ env: { CDS_AUDIT_HMAC_KEY: HMAC_KEY }, store: flaky });
    const card = (await issueCards())[0]!;
    const item = { card: card.uuid, outcome: 'overridden', outcomeTimestamp: '2026-11-27T12:00:00Z' };
    // The card's audit record is written first (feedback flushes it), then the store goes away.
    expect((await postFeedback({ feedback: [{ ...item, outcomeTimestamp: '2026-11-27T11:00:00Z' }] })).status).toBe(200);
    flaky.down = true;
    const refused = await postFeedback({ feedback: [item] });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.body.issue[0]).toMatchObject({ code: 'transient', details: { coding: [{ code: 'CDS_STORE_UNAVAILABLE' }] } });
    flaky.down = false;
    expect((await postFeedback({ feedback: [item] })).body).toEqual({ received: 1, stored: 1, duplicates: 0, unknownCards: 0 });
    expect((await postFeedback({ feedback: [item] })).body).toEqual({ received: 1, stored: 0, duplicates: 1, unknownCards: 0 });
  });
});

describe('audit trail', () => {
  test('each hook call is recorded with ids, rules, card and suggestion uuids, indicators and an HMAC of the patient id — and the database never names the patient', async () => {
    await start();
    const cards = await issueCards();
    const calcium = cardFor(cards, 'PV-CALCIUM-VITD')!;
    await postFeedback({
      feedback: [{ card: calcium.uuid, outcome: 'overridden', overrideReason: { userComment: 'Maren Lindqvist (MRN-100234) already takes calcium' }, outcomeTimestamp: '2026-11-27T12:06:00Z' }],
    });
    await t.close();
    await store.close();

    const db = new Database(dbPath, { readonly: true });
    try {
      const calls = db.prepare('SELECT * FROM hook_calls').all() as Record<string, unknown>[];
      expect(calls).toEqual([
        {
          call_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          hook_instance: expect.stringMatching(/^[0-9a-f-]{36}$/),
          service_id: ELIGIBILITY,
          hook: 'patient-view',
          called_at: Date.parse('2026-11-27T12:00:00Z'),
          patient_hash: createHmac('sha256', HMAC_KEY).update(PATIENT).digest('hex'),
          triggered: 1,
          rule_ids: JSON.stringify(['PV-RECOMMEND', 'PV-CALCIUM-VITD']),
          card_count: 2,
          // CDS_AUTH=off: no verified client.
          client_issuer: '',
          client_tenant: '',
        },
      ]);
      const issued = db.prepare('SELECT card_uuid, rule_id, indicator, suggestion_uuids FROM issued_cards ORDER BY rule_id').all();
      expect(issued).toEqual(
        cards
          .map((c) => ({ card_uuid: c.uuid, rule_id: c.source.topic!.code, indicator: c.indicator, suggestion_uuids: JSON.stringify(c.suggestions!.map((s) => s.uuid)) }))
          .sort((a, b) => a.rule_id.localeCompare(b.rule_id)),
      );
      // The comment was given, but by default its text is not kept (it names the patient here).
      expect(db.prepare('SELECT has_user_comment, user_comment, card_known FROM feedback').all()).toEqual([{ has_user_comment: 1, user_comment: null, card_known: 1 }]);
    } finally {
      db.close();
    }
    const everything = databaseBytes();
    for (const forbidden of [PATIENT, 'Lindqvist', 'Maren', 'MRN-100234', '1960-03-14', 'Practitioner/onc-1']) expect(everything).not.toContain(forbidden);
    store = openStore(`sqlite:${dbPath}`); // for afterEach
  });

  test('CDS_FEEDBACK_COMMENTS=store keeps the comment text', async () => {
    await start({ CDS_FEEDBACK_COMMENTS: 'store' });
    const cards = await issueCards();
    await postFeedback({ feedback: [{ card: cards[0]!.uuid, outcome: 'overridden', overrideReason: { userComment: 'discussed at tumour board' }, outcomeTimestamp: '2026-11-27T12:06:00Z' }] });
    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.prepare('SELECT user_comment FROM feedback').all()).toEqual([{ user_comment: 'discussed at tumour board' }]);
    } finally {
      db.close();
    }
  });
});

describe('GET /cds-services/{id}/feedback/summary', () => {
  const ADMIN = 'admin-token-for-tests-0123456789abcdef';

  test('with CDS_AUTH=required: the admin token or a valid CDS Hooks JWT; anything else is 401 with no detail', async () => {
    // A verifier that accepts one token stands in for the JWT checks (tested in test/auth/).
    const tokenVerifier = {
      verify: async (authorization: string | undefined) => {
        if (authorization !== 'Bearer a-valid-jwt') throw new TokenRejectedError('invalid-token');
        return { issuer: 'https://ehr.example', tenant: undefined, jti: 'j' };
      },
    } as unknown as TokenVerifier;
    await start({ CDS_AUTH: 'required', CDS_TRUSTED_ISSUERS: '/dev/null', CDS_ADMIN_TOKEN: ADMIN }, { tokenVerifier });
    expect((await summary('', ELIGIBILITY, `Bearer ${ADMIN}`)).status).toBe(200);
    expect((await summary('', ELIGIBILITY, 'Bearer a-valid-jwt')).status).toBe(200);
    for (const header of [undefined, `Bearer ${ADMIN}x`, `Bearer ${ADMIN.slice(0, -1)}`, ADMIN, 'Basic abc']) {
      const response = await summary('', ELIGIBILITY, header);
      expect(response.status).toBe(401);
      expect(response.body.issue[0]).toMatchObject({ code: 'security', diagnostics: 'Authentication required' });
    }
  });

  test('bad query parameters: 400 naming the parameter', async () => {
    await start();
    const period = await summary('?period=year');
    expect(period.status).toBe(400);
    expect(period.body.issue[0].expression).toEqual(['period']);
    const order = await summary('?from=2026-11-28&to=2026-11-01');
    expect(order.status).toBe(400);
    expect(order.body.issue[0].expression).toEqual(['from']);
    const unknown = await summary('?patient=pt-candidate');
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0].expression).toEqual(['patient']);
  });

  test('defaults: the 30 days up to now, by day', async () => {
    await start();
    await issueCards();
    const response = await summary('');
    expect(response.body).toMatchObject({
      from: '2026-10-28T12:00:00.000Z',
      to: '2026-11-27T12:00:00.000Z',
      period: 'day',
    });
  });
});
