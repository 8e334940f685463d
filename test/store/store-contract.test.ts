import { StoreReplayCache } from '../../src/auth/store-replay-cache';
import type { Store } from '../../src/store/store';
import { describePostgres, POSTGRES_SKIP_NOTE } from '../support/postgres';
import { accepted, ADAPTERS, card, DAY, HOUR, hookCall, overridden, T0, type TestDatabase } from '../support/store-data';

// The same contract for every adapter: what the service relies on from its store.
describe.each(ADAPTERS)('$name store', (adapter) => {
  let db: TestDatabase;
  const opened: Store[] = [];
  const open = () => {
    const store = db.open();
    opened.push(store);
    return store;
  };
  const migrated = async () => {
    const store = open();
    await store.migrate();
    return store;
  };

  beforeEach(() => {
    db = adapter.create('contract');
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
    await db.cleanup();
  });

  test('migrates an empty database to the current version; migrating again applies nothing', async () => {
    const store = open();
    expect(await store.migrate()).toEqual({ applied: [1, 2], current: 2 });
    expect(await store.migrate()).toEqual({ applied: [], current: 2 });
    // A second replica starting later finds the schema current.
    expect(await open().migrate()).toEqual({ applied: [], current: 2 });
    await store.recordHookCalls([hookCall([card('PV-RECOMMEND')])]);
    const summary = await store.feedbackSummary({ from: T0 - DAY, to: T0 + DAY, period: 'day' });
    expect(summary.rows.map((r) => [r.ruleId, r.shown])).toEqual([['PV-RECOMMEND', 1]]);
  });

  test('two replicas migrating the same empty database at once: exactly one applies the migration', async () => {
    const results = await Promise.all([open().migrate(), open().migrate()]);
    expect(results.map((r) => r.applied).sort()).toEqual([[], [1, 2]]);
    expect(results.every((r) => r.current === 2)).toBe(true);
  });

  test('audit records are idempotent: a retried batch neither fails nor duplicates', async () => {
    const store = await migrated();
    const call = hookCall([card('PV-RECOMMEND'), card('PV-CALCIUM-VITD')]);
    const empty = hookCall([], { triggered: false, ruleIds: [] });
    await store.recordHookCalls([call, empty]);
    await store.recordHookCalls([call, empty]);
    const summary = await store.feedbackSummary({ from: T0, to: T0 + DAY, period: 'day' });
    expect(summary.rows.map((r) => [r.ruleId, r.shown])).toEqual([
      ['PV-CALCIUM-VITD', 1],
      ['PV-RECOMMEND', 1],
    ]);
  });

  test('feedback is stored once per card, outcome and outcome time; a later interaction is stored again', async () => {
    const store = await migrated();
    const issued = card('PV-RECOMMEND');
    await store.recordHookCalls([hookCall([issued])]);
    const item = accepted(issued);
    expect(await store.recordFeedback([item, item])).toEqual({ stored: 1, duplicates: 1, unknownCards: 0, statuses: ['stored', 'duplicate'] });
    expect(await store.recordFeedback([item])).toEqual({ stored: 0, duplicates: 1, unknownCards: 0, statuses: ['duplicate'] });
    // The same card overridden later is a distinct interaction.
    expect(await store.recordFeedback([overridden(issued.cardUuid, undefined, T0 + 2 * HOUR)])).toMatchObject({ stored: 1, duplicates: 0 });
    const [row] = (await store.feedbackSummary({ from: T0, to: T0 + DAY, period: 'day' })).rows;
    expect(row).toMatchObject({ ruleId: 'PV-RECOMMEND', shown: 1, accepted: 1, overridden: 1 });
  });

  test('feedback counts only for cards issued to the same client: unknown or another client\'s card is counted, not stored', async () => {
    const store = await migrated();
    const north = { issuer: 'https://ehr.example', tenant: 'north' };
    const south = { issuer: 'https://ehr.example', tenant: 'south' };
    const northCard = card('PV-DXA-FIRST');
    await store.recordHookCalls([hookCall([northCard], { client: north })]);
    const never = card('PV-DXA-FIRST');
    expect(await store.recordFeedback([overridden(never.cardUuid, undefined, T0 + HOUR, { client: north })])).toEqual({ stored: 0, duplicates: 0, unknownCards: 1, statuses: ['unknown_card'] });
    expect(await store.recordFeedback([overridden(northCard.cardUuid, { code: 'data-out-of-date', display: 'x' }, T0 + HOUR, { client: south })])).toEqual({
      stored: 0,
      duplicates: 0,
      unknownCards: 1,
      statuses: ['unknown_card'],
    });
    expect(await store.issuedCards([northCard.cardUuid, never.cardUuid], south)).toEqual([]);
    expect(await store.issuedCards([northCard.cardUuid, never.cardUuid], north)).toEqual([
      { cardUuid: northCard.cardUuid, serviceId: 'zoledronic-acid-eligibility', ruleId: 'PV-DXA-FIRST', suggestionUuids: northCard.suggestionUuids },
    ]);
    expect(await store.recordFeedback([overridden(northCard.cardUuid, { code: 'data-out-of-date', display: 'Out of date' }, T0 + HOUR, { client: north })])).toMatchObject({ stored: 1 });
    // Each client's summary shows its own cards only; without a client (the operator) everything.
    expect((await store.feedbackSummary({ from: T0 - DAY, to: T0 + DAY, period: 'day', client: south })).rows).toEqual([]);
    const own = await store.feedbackSummary({ from: T0 - DAY, to: T0 + DAY, period: 'day', client: north });
    expect(own.rows).toEqual([
      {
        serviceId: 'zoledronic-acid-eligibility',
        ruleId: 'PV-DXA-FIRST',
        period: '2026-11-23',
        shown: 1,
        accepted: 0,
        overridden: 1,
        topOverrideReasons: [{ system: 'https://zoledronic-cds.example.org/override', code: 'data-out-of-date', display: 'Out of date', cards: 1 }],
      },
    ]);
    expect((await store.feedbackSummary({ from: T0 - DAY, to: T0 + DAY, period: 'day' })).rows).toEqual(own.rows);
  });

  test('a per-client quota: a batch that would exceed it is refused whole; other clients are unaffected', async () => {
    const store = await migrated();
    const north = { issuer: 'https://ehr.example', tenant: 'north' };
    const south = { issuer: 'https://ehr.example', tenant: 'south' };
    const northCards = Array.from({ length: 5 }, () => card('PV-RECOMMEND'));
    const southCard = card('PV-RECOMMEND');
    await store.recordHookCalls([hookCall(northCards, { client: north }), hookCall([southCard], { client: south })]);
    const comment = (c: (typeof northCards)[number], at: number) => overridden(c.cardUuid, undefined, at, { client: north, hasUserComment: true, userComment: 'x'.repeat(300) });
    // Each row costs 200 + 300 bytes: two fit in 1200 bytes, a third does not.
    expect(await store.recordFeedback([comment(northCards[0]!, T0), comment(northCards[1]!, T0)], { quotaBytes: 1200 })).toMatchObject({ stored: 2 });
    await expect(store.recordFeedback([comment(northCards[2]!, T0), comment(northCards[3]!, T0)], { quotaBytes: 1200 })).rejects.toThrow('quota');
    expect((await store.feedbackSummary({ from: T0 - DAY, to: T0 + DAY, period: 'day', client: north })).rows[0]).toMatchObject({ overridden: 2 });
    expect(await store.recordFeedback([overridden(southCard.cardUuid, undefined, T0, { client: south })], { quotaBytes: 1200 })).toMatchObject({ stored: 1 });
  });

  test('concurrent feedback from two replicas: every item stored exactly once', async () => {
    const a = await migrated();
    const b = open();
    const cards = Array.from({ length: 30 }, () => card('PV-RECOMMEND'));
    await a.recordHookCalls([hookCall(cards)]);
    const items = cards.flatMap((c, i) => [accepted(c, T0 + i * 1000), overridden(c.cardUuid, { code: `r${i % 3}` }, T0 + i * 1000 + 500)]);
    // 60 distinct items, each sent in 3 batches (several clients resending), split across both replicas.
    const batches = [0, 1, 2].flatMap((round) => Array.from({ length: 6 }, (_, k) => items.filter((_, i) => (i + round) % 6 === k)));
    const results = await Promise.all(batches.map((batch, i) => (i % 2 === 0 ? a : b).recordFeedback(batch)));
    expect(results.reduce((n, r) => n + r.stored, 0)).toBe(60);
    expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(120);
    const [row] = (await b.feedbackSummary({ from: T0, to: T0 + DAY, period: 'day' })).rows;
    expect(row).toMatchObject({ shown: 30, accepted: 30, overridden: 30 });
    expect(row!.topOverrideReasons.map((r) => [r.code, r.cards])).toEqual([
      ['r0', 10],
      ['r1', 10],
      ['r2', 10],
    ]);
  });

  test('summary: per rule and period, distinct cards, top override reasons, only cards issued in the window', async () => {
    const store = await migrated();
    const monday = [card('PV-RECOMMEND'), card('PV-RECOMMEND'), card('PV-RECOMMEND')];
    const wednesday = [card('PV-RECOMMEND'), card('PV-RECOMMEND', { indicator: 'warning' })];
    const nextMonday = [card('PV-RECOMMEND')];
    const outside = card('PV-RECOMMEND');
    await store.recordHookCalls([
      hookCall(monday),
      hookCall(wednesday, { calledAt: T0 + 2 * DAY }),
      hookCall(nextMonday, { calledAt: T0 + 7 * DAY }),
      hookCall([outside], { calledAt: T0 - 30 * DAY }),
      hookCall([card('OS-ACUTE-PHASE')], { serviceId: 'zoledronic-acid-order-select', hook: 'order-select' }),
    ]);
    await store.recordFeedback([
      accepted(monday[0]!),
      accepted(monday[0]!, T0 + 2 * HOUR), // the same card accepted twice: one accepted card
      overridden(monday[1]!.cardUuid, { code: 'declined', display: 'Patient declined' }),
      overridden(wednesday[0]!.cardUuid, { code: 'declined', display: 'Patient declined' }, T0 + 2 * DAY + HOUR),
      overridden(wednesday[1]!.cardUuid, { code: 'dental', display: 'Dental work pending' }, T0 + 2 * DAY + HOUR),
      overridden(nextMonday[0]!.cardUuid, undefined, T0 + 7 * DAY + HOUR),
      overridden(outside.cardUuid, { code: 'declined' }, T0),
    ]);
    const query = { serviceId: 'zoledronic-acid-eligibility', from: T0 - DAY, to: T0 + 14 * DAY };

    const byWeek = await store.feedbackSummary({ ...query, period: 'week' });
    expect(byWeek.rows).toEqual([
      {
        serviceId: 'zoledronic-acid-eligibility',
        ruleId: 'PV-RECOMMEND',
        period: '2026-11-23',
        shown: 5,
        accepted: 1,
        overridden: 3,
        topOverrideReasons: [
          { system: 'https://zoledronic-cds.example.org/override', code: 'declined', display: 'Patient declined', cards: 2 },
          { system: 'https://zoledronic-cds.example.org/override', code: 'dental', display: 'Dental work pending', cards: 1 },
        ],
      },
      { serviceId: 'zoledronic-acid-eligibility', ruleId: 'PV-RECOMMEND', period: '2026-11-30', shown: 1, accepted: 0, overridden: 1, topOverrideReasons: [{ cards: 1 }] },
    ]);

    const byDay = await store.feedbackSummary({ ...query, period: 'day' });
    expect(byDay.rows.map((r) => [r.period, r.shown, r.accepted, r.overridden])).toEqual([
      ['2026-11-23', 3, 1, 1],
      ['2026-11-25', 2, 0, 2],
      ['2026-11-30', 1, 0, 1],
    ]);

    const byMonth = await store.feedbackSummary({ ...query, period: 'month', topReasons: 1 });
    expect(byMonth.rows.map((r) => [r.period, r.shown, r.accepted, r.overridden, r.topOverrideReasons.map((x) => x.code)])).toEqual([
      ['2026-11', 6, 1, 4, ['declined']],
    ]);

    const everyService = await store.feedbackSummary({ from: T0 - DAY, to: T0 + DAY, period: 'day' });
    expect(everyService.rows.map((r) => [r.serviceId, r.ruleId])).toEqual([
      ['zoledronic-acid-eligibility', 'PV-RECOMMEND'],
      ['zoledronic-acid-order-select', 'OS-ACUTE-PHASE'],
    ]);
  });

  test('jti: claimed once across replicas even when presented concurrently; reusable only after it expires', async () => {
    const a = await migrated();
    const b = open();
    const exp = T0 + 300_000;
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).claimJti('https://ehr.example', 'jti-1', exp, T0)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await b.claimJti('https://ehr.example', 'jti-1', exp, T0 + 1000)).toBe(false);
    // Same jti from another issuer is another token.
    expect(await b.claimJti('https://other.example', 'jti-1', exp, T0)).toBe(true);
    // After expiry the entry no longer blocks (and the purge removes expired entries).
    expect(await a.claimJti('https://ehr.example', 'jti-1', exp + 600_000, exp + 1)).toBe(true);
    expect(await a.purge(undefined, exp + 2_000_000)).toEqual({ hookCalls: 0, issuedCards: 0, feedback: 0, replayEntries: 2 });
  });

  test('StoreReplayCache: a jti seen by one replica is a replay for the other', async () => {
    const a = await migrated();
    const b = open();
    const now = () => T0;
    const replicaA = new StoreReplayCache(a, { now });
    const replicaB = new StoreReplayCache(b, { now });
    const exp = T0 + 300_000; // epoch ms (ReplayCache contract)
    expect(await replicaA.seen('abc', 'https://ehr.example', exp)).toBe(false);
    expect(await replicaB.seen('abc', 'https://ehr.example', exp)).toBe(true);
    expect(await replicaA.seen('abc', 'https://ehr.example', exp)).toBe(true);
    expect(await replicaB.seen('def', 'https://ehr.example', exp)).toBe(false);
  });

  test('retention purge deletes audit rows and feedback older than the cutoff, and keeps newer ones', async () => {
    const store = await migrated();
    const old = card('PV-RECOMMEND');
    const recent = card('PV-RECOMMEND');
    await store.recordHookCalls([hookCall([old], { calledAt: T0 - 100 * DAY }), hookCall([recent])]);
    await store.recordFeedback([accepted(old, T0 - 100 * DAY), accepted(recent)]);
    expect(await store.purge(T0 - 90 * DAY, T0)).toEqual({ hookCalls: 1, issuedCards: 1, feedback: 1, replayEntries: 0 });
    const summary = await store.feedbackSummary({ from: T0 - 365 * DAY, to: T0 + DAY, period: 'month' });
    expect(summary.rows.map((r) => [r.period, r.shown, r.accepted])).toEqual([['2026-11', 1, 1]]);
  });

  test('feedback has its own (default one-year) retention even when audit rows are kept', async () => {
    const store = await migrated();
    const old = card('PV-RECOMMEND');
    await store.recordHookCalls([hookCall([old], { calledAt: T0 - 400 * DAY })]);
    await store.recordFeedback([accepted(old, T0 - 400 * DAY)]);
    expect(await store.purge(undefined, T0, T0 - 365 * DAY)).toEqual({ hookCalls: 0, issuedCards: 0, feedback: 1, replayEntries: 0 });
    const summary = await store.feedbackSummary({ from: T0 - 500 * DAY, to: T0 + DAY, period: 'month' });
    expect(summary.rows.map((r) => [r.shown, r.accepted])).toEqual([[1, 0]]);
  });
});

if (!ADAPTERS.some((a) => a.name === 'PostgreSQL')) {
  describePostgres('PostgreSQL store', () => {
    test(POSTGRES_SKIP_NOTE, () => undefined);
  });
}
