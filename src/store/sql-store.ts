import type { Migration, SqlDatabase, SqlExecutor, SqlValue } from './sql';
import {
  FeedbackQuotaExceededError,
  type ClientRef,
  type FeedbackRecord,
  type FeedbackSummary,
  type FeedbackWriteResult,
  type HookCallRecord,
  type MigrationResult,
  type PurgeResult,
  type Store,
  type SummaryQuery,
  type IssuedCardRef,
} from './store';
import { DAY_MS, rollUp, type DayCount, type DayOutcomeCount, type DayReasonCount } from './summary';

const num = (value: unknown): number => Number(value ?? 0);

/** What a feedback row costs against its client's quota: its variable parts plus a fixed row overhead. */
function storedBytes(item: FeedbackRecord): number {
  const text = [item.userComment, item.overrideReason?.system, item.overrideReason?.code, item.overrideReason?.display, ...item.acceptedSuggestionIds];
  return 200 + text.reduce((sum, part) => sum + (part ? Buffer.byteLength(part, 'utf8') : 0), 0);
}
const optional = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);

/**
 * The repository, written once over SqlDatabase: the SQLite and PostgreSQL adapters differ only in
 * how they connect, lock and number parameters, and in their migrations' column types. Every write
 * is idempotent (ON CONFLICT DO NOTHING), so a retried batch never duplicates or fails on its own
 * earlier partial success.
 */
export class SqlStore implements Store {
  readonly dialect: 'sqlite' | 'postgres';

  constructor(
    private readonly db: SqlDatabase,
    private readonly migrations: readonly Migration[],
  ) {
    this.dialect = db.dialect;
  }

  async migrate(): Promise<MigrationResult> {
    return this.db.transaction(
      async (tx) => {
        if (this.db.migrationPrelude) await tx.script(this.db.migrationPrelude);
        await tx.script('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
        const done = new Set((await tx.all<{ version: unknown }>('SELECT version FROM schema_migrations')).map((r) => num(r.version)));
        const applied: number[] = [];
        for (const migration of [...this.migrations].sort((a, b) => a.version - b.version)) {
          if (done.has(migration.version)) continue;
          await tx.script(migration.sql);
          await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [migration.version, migration.name, Date.now()]);
          applied.push(migration.version);
          done.add(migration.version);
        }
        return { applied, current: Math.max(0, ...done) };
      },
      { exclusive: true },
    );
  }

  async ping(): Promise<void> {
    await this.db.all('SELECT 1 AS ok');
  }

  async recordHookCalls(records: readonly HookCallRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const call of records) {
        await tx.run(
          `INSERT INTO hook_calls (call_id, hook_instance, service_id, hook, called_at, patient_hash, triggered, rule_ids, card_count, client_issuer, client_tenant)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id) DO NOTHING`,
          [call.callId, call.hookInstance, call.serviceId, call.hook, call.calledAt, call.patientHash, call.triggered, JSON.stringify(call.ruleIds), call.cards.length, call.client.issuer, call.client.tenant],
        );
        for (const card of call.cards) {
          await tx.run(
            `INSERT INTO issued_cards (card_uuid, call_id, service_id, rule_id, indicator, suggestion_uuids, issued_at, client_issuer, client_tenant)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (card_uuid) DO NOTHING`,
            [card.cardUuid, call.callId, call.serviceId, card.ruleId, card.indicator, JSON.stringify(card.suggestionUuids), call.calledAt, call.client.issuer, call.client.tenant],
          );
        }
      }
      // Feedback can overtake its card's audit record (the audit queue is asynchronous, or was held
      // during an outage): once the card is recorded, the feedback is no longer "unknown card".
      const uuids = records.flatMap((r) => r.cards.map((c) => c.cardUuid));
      for (let i = 0; i < uuids.length; i += 200) {
        const chunk = uuids.slice(i, i + 200);
        await tx.run(`UPDATE feedback SET card_known = ? WHERE card_known = ? AND card_uuid IN (${chunk.map(() => '?').join(', ')})`, [true, false, ...chunk]);
      }
    });
  }

  async recordFeedback(items: readonly FeedbackRecord[], options: { quotaBytes?: number } = {}): Promise<FeedbackWriteResult> {
    return this.db.transaction(async (tx) => {
      const result: FeedbackWriteResult = { stored: 0, duplicates: 0, unknownCards: 0, statuses: [] };
      const usage = new Map<string, number>();
      for (const item of items) {
        // Only cards issued to the same client: another client's card (or none of ours) is not stored.
        const issued = await tx.all(
          'SELECT 1 AS ok FROM issued_cards WHERE card_uuid = ? AND client_issuer = ? AND client_tenant = ?',
          [item.cardUuid, item.client.issuer, item.client.tenant],
        );
        if (issued.length === 0) {
          result.unknownCards += 1;
          result.statuses.push('unknown_card');
          continue;
        }
        const bytes = storedBytes(item);
        if (options.quotaBytes !== undefined) {
          const clientKey = JSON.stringify([item.client.issuer, item.client.tenant]);
          let used = usage.get(clientKey);
          if (used === undefined) {
            const rows = await tx.all('SELECT COALESCE(SUM(stored_bytes), 0) AS used FROM feedback WHERE client_issuer = ? AND client_tenant = ?', [item.client.issuer, item.client.tenant]);
            used = num(rows[0]?.used);
          }
          // Throwing rolls the whole batch back: over quota, nothing is stored.
          if (used + bytes > options.quotaBytes) throw new FeedbackQuotaExceededError();
          usage.set(clientKey, used + bytes);
        }
        const changed = await tx.run(
          `INSERT INTO feedback (card_uuid, service_id, outcome, outcome_at, received_at, accepted_suggestions,
             override_system, override_code, override_display, has_user_comment, user_comment, card_known,
             client_issuer, client_tenant, stored_bytes)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (card_uuid, outcome, outcome_at) DO NOTHING`,
          [
            item.cardUuid,
            item.serviceId,
            item.outcome,
            item.outcomeAt,
            item.receivedAt,
            item.acceptedSuggestionIds.length > 0 ? JSON.stringify(item.acceptedSuggestionIds) : null,
            item.overrideReason?.system ?? null,
            item.overrideReason?.code ?? null,
            item.overrideReason?.display ?? null,
            item.hasUserComment,
            item.userComment ?? null,
            true,
            item.client.issuer,
            item.client.tenant,
            bytes,
          ],
        );
        if (changed === 0) {
          result.duplicates += 1;
          result.statuses.push('duplicate');
        } else {
          result.stored += 1;
          result.statuses.push('stored');
        }
      }
      return result;
    });
  }

  async issuedCards(cardUuids: readonly string[], client: ClientRef): Promise<IssuedCardRef[]> {
    const out: IssuedCardRef[] = [];
    const unique = [...new Set(cardUuids)];
    for (let i = 0; i < unique.length; i += 200) {
      const chunk = unique.slice(i, i + 200);
      const rows = await this.db.all(
        `SELECT card_uuid, service_id, rule_id, suggestion_uuids FROM issued_cards
         WHERE client_issuer = ? AND client_tenant = ? AND card_uuid IN (${chunk.map(() => '?').join(', ')})`,
        [client.issuer, client.tenant, ...chunk],
      );
      for (const row of rows) {
        let suggestionUuids: string[] = [];
        try {
          const parsed: unknown = JSON.parse(String(row.suggestion_uuids));
          if (Array.isArray(parsed)) suggestionUuids = parsed.map(String);
        } catch {
          // An unreadable list means no suggestion can be matched; the card itself is still known.
        }
        out.push({ cardUuid: String(row.card_uuid), serviceId: String(row.service_id), ruleId: String(row.rule_id), suggestionUuids });
      }
    }
    return out;
  }

  async feedbackSummary(query: SummaryQuery): Promise<FeedbackSummary> {
    const byService = query.serviceId ? ' AND c.service_id = ?' : '';
    const byClient = query.client ? ' AND c.client_issuer = ? AND c.client_tenant = ?' : '';
    const params: SqlValue[] = [query.from, query.to, ...(query.serviceId ? [query.serviceId] : []), ...(query.client ? [query.client.issuer, query.client.tenant] : [])];
    const window = `c.issued_at >= ? AND c.issued_at < ?${byService}${byClient}`;
    const day = `(c.issued_at / ${DAY_MS})`;

    const shown = await this.db.all(
      `SELECT c.service_id, c.rule_id, ${day} AS day, COUNT(*) AS n FROM issued_cards c
       WHERE ${window} GROUP BY c.service_id, c.rule_id, ${day}`,
      params,
    );
    const outcomes = await this.db.all(
      `SELECT c.service_id, c.rule_id, ${day} AS day, f.outcome, COUNT(DISTINCT f.card_uuid) AS n
       FROM feedback f JOIN issued_cards c ON c.card_uuid = f.card_uuid
       WHERE ${window} GROUP BY c.service_id, c.rule_id, ${day}, f.outcome`,
      params,
    );
    const reasons = await this.db.all(
      `SELECT c.service_id, c.rule_id, ${day} AS day, f.override_system, f.override_code, MAX(f.override_display) AS display,
              COUNT(DISTINCT f.card_uuid) AS n
       FROM feedback f JOIN issued_cards c ON c.card_uuid = f.card_uuid
       WHERE ${window} AND f.outcome = 'overridden'
       GROUP BY c.service_id, c.rule_id, ${day}, f.override_system, f.override_code`,
      params,
    );
    const unknown = await this.db.all(
      `SELECT COUNT(*) AS n FROM feedback f
       WHERE f.card_known = ? AND f.received_at >= ? AND f.received_at < ?${query.serviceId ? ' AND f.service_id = ?' : ''}${
         query.client ? ' AND f.client_issuer = ? AND f.client_tenant = ?' : ''
       }`,
      [false, ...params],
    );

    const base = (r: Record<string, unknown>): DayCount => ({ serviceId: String(r.service_id), ruleId: String(r.rule_id), day: num(r.day), count: num(r.n) });
    const rows = rollUp(
      shown.map(base),
      outcomes.map((r): DayOutcomeCount => ({ ...base(r), outcome: r.outcome === 'accepted' ? 'accepted' : 'overridden' })),
      reasons.map((r): DayReasonCount => ({ ...base(r), system: optional(r.override_system), code: optional(r.override_code), display: optional(r.display) })),
      query.period,
      query.topReasons ?? 3,
    );
    return { from: query.from, to: query.to, period: query.period, rows, unknownCardFeedback: num(unknown[0]?.n) };
  }

  async claimJti(issuer: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    // One statement, so it is atomic across connections and replicas: a new claim inserts; an
    // expired claim is taken over; an unexpired one changes nothing (0 rows = a replay).
    const changed = await this.db.runUrgent(
      `INSERT INTO jwt_replay (issuer, jti, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = excluded.expires_at WHERE jwt_replay.expires_at <= ?`,
      [issuer, jti, expiresAt, now],
    );
    return changed > 0;
  }

  async purge(cutoff: number | undefined, now: number, feedbackCutoff?: number): Promise<PurgeResult> {
    return this.db.transaction(async (tx: SqlExecutor) => {
      const replayEntries = await tx.run('DELETE FROM jwt_replay WHERE expires_at <= ?', [now]);
      const feedbackBefore = Math.max(cutoff ?? Number.NEGATIVE_INFINITY, feedbackCutoff ?? Number.NEGATIVE_INFINITY);
      const feedback = Number.isFinite(feedbackBefore) ? await tx.run('DELETE FROM feedback WHERE received_at < ?', [feedbackBefore]) : 0;
      if (cutoff === undefined) return { hookCalls: 0, issuedCards: 0, feedback, replayEntries };
      const issuedCards = await tx.run('DELETE FROM issued_cards WHERE issued_at < ?', [cutoff]);
      const hookCalls = await tx.run('DELETE FROM hook_calls WHERE called_at < ?', [cutoff]);
      return { hookCalls, issuedCards, feedback, replayEntries };
    });
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
