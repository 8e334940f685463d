import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditQueueState } from '../audit/audit-queue';
import type { HookCall } from '../audit/hook-call';

/** The registries a metric is registered in (one: the app's own). */
type Registers = Registry[];

/** HTTP requests answered, and how long they took. */
function httpMetrics(registers: Registers) {
  return {
    httpRequests: new Counter({
      name: 'cds_http_requests_total',
      help: 'HTTP requests answered, by service id (empty for non-service routes), route, method and status',
      labelNames: ['service', 'route', 'method', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'cds_http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by service id, route, method and status',
      labelNames: ['service', 'route', 'method', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers,
    }),
  };
}

/** What hook calls returned: cards, and how prefetch keys were satisfied. */
function hookMetrics(registers: Registers) {
  return {
    cardsIssued: new Counter({
      name: 'cds_cards_issued_total',
      help: 'Cards returned, by service, rule id and indicator',
      labelNames: ['service', 'rule_id', 'indicator'] as const,
      registers,
    }),
    prefetchKeys: new Counter({
      name: 'cds_prefetch_keys_total',
      help: 'Prefetch keys by how they were satisfied: prefetch (hit), fetched (from fhirServer), empty (null), unavailable',
      labelNames: ['service', 'source'] as const,
      registers,
    }),
  };
}

/** Requests to EHR FHIR servers, by outcome. */
function fhirMetrics(registers: Registers) {
  return {
    fhirRequests: new Counter({
      name: 'cds_fhir_requests_total',
      help: 'HTTP requests to EHR FHIR servers, by outcome (ok or a failure reason such as timeout, network, http-error)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    fhirDuration: new Histogram({
      name: 'cds_fhir_request_duration_seconds',
      help: 'Latency of HTTP requests to EHR FHIR servers, by outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers,
    }),
  };
}

/** JWT rejections and replay-store failures. */
function securityMetrics(registers: Registers) {
  return {
    jwtRejections: new Counter({
      name: 'cds_jwt_rejections_total',
      help: 'CDS Hooks JWTs rejected, by reason (incremented by the JWT verifier)',
      labelNames: ['reason'] as const,
      registers,
    }),
    jtiReplayUnavailable: new Counter({
      name: 'cds_jti_replay_unavailable_total',
      help: 'calls refused with 503 because the jti replay store did not answer in time',
      registers,
    }),
  };
}

/** Store operations, feedback, audit queue and retention purge counters. */
function storeMetrics(registers: Registers) {
  return {
    storeErrors: new Counter({
      name: 'cds_store_errors_total',
      help: 'Failed store operations, by operation',
      labelNames: ['operation'] as const,
      registers,
    }),
    feedbackItems: new Counter({
      name: 'cds_feedback_items_total',
      help: 'Feedback items received, by service, outcome and result (stored, duplicate, unknown_card)',
      labelNames: ['service', 'outcome', 'result'] as const,
      registers,
    }),
    auditDropped: new Counter({
      name: 'cds_audit_records_dropped_total',
      help: 'Audit records dropped because the in-memory queue was full while the store was unavailable',
      registers,
    }),
    retentionPurged: new Counter({
      name: 'cds_retention_purged_rows_total',
      help: 'Rows deleted by the retention purge, by table',
      labelNames: ['table'] as const,
      registers,
    }),
  };
}

/** Gauges read at scrape time from the live audit queue and store health, once bound. */
function storeGauges(registers: Registers) {
  let auditState: (() => AuditQueueState) | undefined;
  let storeUp: (() => boolean) | undefined;
  return {
    auditQueueDepth: new Gauge({
      name: 'cds_audit_queue_depth',
      help: 'Audit records waiting in memory to be written to the store',
      registers,
      collect() {
        if (auditState) this.set(auditState().depth);
      },
    }),
    storeUpGauge: new Gauge({
      name: 'cds_store_up',
      help: '1 when the last store operation succeeded, 0 when it failed',
      registers,
      collect() {
        if (storeUp) this.set(storeUp() ? 1 : 0);
      },
    }),
    /** Connects the gauges to the live audit queue and store health. */
    bindStoreState(state: { audit: () => AuditQueueState; up: () => boolean }): void {
      auditState = state.audit;
      storeUp = state.up;
    },
  };
}

/**
 * Prometheus metrics of one app instance (its own Registry: several apps in one process, as in the
 * tests, never collide). Labels carry ids and codes only — no patient data. Names are listed in the
 * README ("Metrics"). Built area by area in the order they were always registered (so the /metrics
 * text keeps its order).
 */
export function createMetrics() {
  const registry = new Registry();
  // Node process metrics, including event-loop lag (nodejs_eventloop_lag_seconds and percentiles).
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const http = httpMetrics(registers);
  const hooks = hookMetrics(registers);
  const metrics = {
    registry,
    ...http,
    ...hooks,
    ...fhirMetrics(registers),
    ...securityMetrics(registers),
    ...storeMetrics(registers),
    ...storeGauges(registers),
    /** Cards by rule and indicator, prefetch keys by source: from one answered hook call. */
    observeHookCall(call: HookCall): void {
      for (const card of call.outcome.cards) {
        hooks.cardsIssued.inc({ service: call.serviceId, rule_id: card.source.topic?.code ?? 'unknown', indicator: card.indicator });
      }
      for (const source of Object.values(call.outcome.keys)) hooks.prefetchKeys.inc({ service: call.serviceId, source });
    },
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
