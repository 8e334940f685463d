import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { clientOf } from '../auth/client-ref';
import { compileRequestSchema, invalidRequest } from '../engine/validate-request';
import { FeedbackQuotaError, RequestInvalidError, ServiceNotFoundError, StoreUnavailableError } from '../errors';
import type { Catalog, CompiledService } from '../knowledge/types';
import type { Metrics } from '../metrics/metrics';
import { ServiceParamsSchema } from '../schemas/cds-request';
import {
  FeedbackRequestSchema,
  FeedbackResponseSchema,
  FeedbackSummaryResponseSchema,
  SummaryQuerySchema,
  type FeedbackItem,
} from '../schemas/feedback';
import { FeedbackQuotaExceededError, type ClientRef, type FeedbackRecord, type IssuedCardRef, type Store, type SummaryPeriod } from '../store/store';

export interface FeedbackRouteOptions {
  catalog: Catalog;
  store: Store;
  metrics: Metrics;
  now: () => number;
  feedbackComments: 'drop' | 'store';
  /** Bytes of feedback one client may have stored (CDS_FEEDBACK_QUOTA_BYTES). */
  feedbackQuotaBytes: number;
  /** Writes audit records still queued in this process, so feedback right after a card finds it. */
  flushAudit: () => Promise<void>;
  log: { error(obj: object, msg: string): void };
}

const DAY_MS = 86_400_000;

/** The feedback body failed FeedbackRequestSchema: the texts the route has always answered with. */
function feedbackInvalid(errors: Parameters<typeof invalidRequest>[1] & object): RequestInvalidError {
  if (errors.some((e) => e.instancePath === '' && e.keyword === 'type')) {
    return new RequestInvalidError('The request body must be a JSON object with a feedback array', ['feedback']);
  }
  return invalidRequest('Invalid feedback', errors);
}

/** A card uuid as we issued it: lower case, without a urn:uuid: prefix. */
const normaliseUuid = (value: string) => value.replace(/^urn:uuid:/i, '').toLowerCase();

/** True when any string (or key) in `value` holds a NUL character, which PostgreSQL text cannot store. */
function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([key, member]) => key.includes('\u0000') || containsNul(member));
  return false;
}

/** Override reason codes each rule's cards offer (rules without any offer none). */
function offeredReasons(catalog: Catalog): Map<string, Set<string>> {
  const byRule = new Map<string, Set<string>>();
  for (const ruleSet of catalog.ruleSets.values()) {
    for (const rule of ruleSet.rules) byRule.set(rule.id, new Set(rule.card.overrideReasons ?? []));
  }
  return byRule;
}

/**
 * Checks each item against the card as it was issued to this client, in place: an override reason
 * must be one the card offered (the stored display is then the card's own, never client text), and
 * accepted suggestions must be the card's. Items about cards not issued to this client are left for
 * the store to count (not stored).
 */
function checkAgainstCards(records: FeedbackRecord[], issued: readonly IssuedCardRef[], catalog: Catalog, reasonsByRule: Map<string, Set<string>>): void {
  const cards = new Map(issued.map((card) => [card.cardUuid, card]));
  records.forEach((record, i) => {
    const card = cards.get(record.cardUuid);
    if (!card) return;
    const reason = record.overrideReason;
    if (reason) {
      const offered = reasonsByRule.get(card.ruleId);
      if (reason.system !== catalog.overrideReasons.system || !reason.code || !offered?.has(reason.code)) {
        throw new RequestInvalidError(`feedback[${i}].overrideReason.reason: is not one of the override reasons the card offered`, [`feedback[${i}].overrideReason.reason`]);
      }
      record.overrideReason = { system: reason.system, code: reason.code, display: catalog.overrideReasons.reasons[reason.code]?.display ?? reason.code };
    }
    const suggestions = new Set(card.suggestionUuids);
    if (record.acceptedSuggestionIds.some((id) => !suggestions.has(id))) {
      throw new RequestInvalidError(`feedback[${i}].acceptedSuggestions: names a suggestion the card did not carry`, [`feedback[${i}].acceptedSuggestions`]);
    }
  });
}

function toRecord(item: FeedbackItem, index: number, serviceId: string, receivedAt: number, keepComments: boolean, client: ClientRef): FeedbackRecord {
  const outcomeAt = Date.parse(item.outcomeTimestamp);
  if (!Number.isFinite(outcomeAt)) {
    throw new RequestInvalidError(`feedback[${index}].outcomeTimestamp: is not a usable date-time`, [`feedback[${index}].outcomeTimestamp`]);
  }
  const reason = item.overrideReason?.reason;
  const comment = item.overrideReason?.userComment?.trim();
  return {
    cardUuid: normaliseUuid(item.card),
    serviceId,
    outcome: item.outcome,
    outcomeAt,
    receivedAt,
    acceptedSuggestionIds: (item.acceptedSuggestions ?? []).map((s) => normaliseUuid(s.id)),
    ...(reason ? { overrideReason: { system: reason.system, code: reason.code, ...(reason.display ? { display: reason.display } : {}) } } : {}),
    hasUserComment: Boolean(comment),
    ...(keepComments && comment ? { userComment: comment } : {}),
    client,
  };
}

/** `2026-11-01` → that UTC midnight; a date-time → its instant. */
function instantOf(value: string, field: string): number {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(ms)) throw new RequestInvalidError(`${field}: is not a usable date`, [field]);
  return ms;
}

/**
 * POST /cds-services/{id}/feedback (CDS Hooks 2.0 §Feedback) and GET …/feedback/summary. Both sit
 * under /cds-services so the CDS Hooks JWT check covers them like the hook calls.
 */
export const FEEDBACK_SUMMARY_ROUTE = '/cds-services/:id/feedback/summary';

const feedbackSchema = { params: ServiceParamsSchema, body: FeedbackRequestSchema, response: { 200: FeedbackResponseSchema } };
const summarySchema = { params: ServiceParamsSchema, querystring: SummaryQuerySchema, response: { 200: FeedbackSummaryResponseSchema } };

/** PostgreSQL cannot store NUL: refused as bad input (before the schema, as always), never a 503 that flips cds_store_up. */
async function refuseNul(request: { body: unknown }): Promise<void> {
  const body = request.body;
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && containsNul(body)) {
    throw new RequestInvalidError('Invalid feedback: text must not contain NUL characters', ['feedback']);
  }
}

export const feedbackRoutes: FastifyPluginAsync<FeedbackRouteOptions> = async (plugin, options) => {
  const { catalog, store, metrics, now } = options;
  const reasonsByRule = offeredReasons(catalog);
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(compileRequestSchema);
  const serviceOf = (id: string): CompiledService => {
    const service = catalog.services.get(id);
    if (!service) throw new ServiceNotFoundError(id.slice(0, 64));
    return service;
  };
  // An unknown service is a 404 whatever the request holds: looked up before the schemas run.
  const knownService = async (request: { params: { id: string }; cds: { serviceId?: string } }) => {
    request.cds.serviceId = serviceOf(request.params.id).id;
  };

  app.post('/cds-services/:id/feedback', { schema: feedbackSchema, schemaErrorFormatter: feedbackInvalid, preValidation: [knownService, refuseNul] }, async (request) => {
    const service = serviceOf(request.params.id);
    const body = request.body;
    const receivedAt = now();
    const client = clientOf(request.cdsClient);
    const records = body.feedback.map((item, i) => toRecord(item, i, service.id, receivedAt, options.feedbackComments === 'store', client));
    request.cds.feedbackItems = records.length;

    await options.flushAudit();
    let issued: IssuedCardRef[];
    try {
      issued = await store.issuedCards(records.map((r) => r.cardUuid), client);
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
    checkAgainstCards(records, issued, catalog, reasonsByRule);
    let result;
    try {
      result = await store.recordFeedback(records, { quotaBytes: options.feedbackQuotaBytes });
    } catch (error) {
      if (error instanceof FeedbackQuotaExceededError) throw new FeedbackQuotaError();
      const e = error as { code?: unknown; message?: unknown };
      options.log.error({ err: { code: e?.code, message: String(e?.message ?? error).slice(0, 300) }, serviceId: service.id }, 'feedback could not be stored');
      throw new StoreUnavailableError(error);
    }
    records.forEach((record, i) => metrics.feedbackItems.inc({ service: service.id, outcome: record.outcome, result: result.statuses[i] ?? 'stored' }));
    return { received: records.length, stored: result.stored, duplicates: result.duplicates, unknownCards: result.unknownCards };
  });

  // With CDS_AUTH=required the auth plugin admits a CDS Hooks JWT or the operator's CDS_ADMIN_TOKEN.
  app.get(
    FEEDBACK_SUMMARY_ROUTE,
    { schema: summarySchema, schemaErrorFormatter: (errors) => invalidRequest('Invalid summary query', errors), preValidation: knownService },
    async (request) => {
      const service = serviceOf(request.params.id);
      const query = request.query;
      const to = query.to ? instantOf(query.to, 'to') : now();
      const from = query.from ? instantOf(query.from, 'from') : to - 30 * DAY_MS;
      if (from >= to) throw new RequestInvalidError('from: must be before to', ['from']);
      const period: SummaryPeriod = query.period ?? 'day';
      let summary;
      try {
        // A client sees its own cards and feedback; the operator's admin token (no JWT) sees all.
        const scope = request.cdsClient ? { client: clientOf(request.cdsClient) } : {};
        summary = await store.feedbackSummary({ serviceId: service.id, from, to, period, topReasons: query.top ? Number(query.top) : 3, ...scope });
      } catch (error) {
        throw new StoreUnavailableError(error);
      }
      return {
        serviceId: service.id,
        from: new Date(summary.from).toISOString(),
        to: new Date(summary.to).toISOString(),
        period: summary.period,
        rows: summary.rows.map(({ serviceId: _s, ...row }) => row),
        unknownCardFeedback: summary.unknownCardFeedback,
      };
    },
  );
};
