import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config/env';
import { CdsError, operationOutcome, StoreUnavailableError } from './errors';
import { FhirClient } from './fhir/fhir-client';
import type { Catalog } from './knowledge/types';
import { loggerOptions } from './logging';
import { createMetrics } from './metrics/metrics';
import metricsPlugin from './plugins/metrics';
import storePlugin from './plugins/store';
import { discoveryRoutes } from './routes/discovery';
import { feedbackRoutes } from './routes/feedback';
import { healthRoutes } from './routes/health';
import { serviceRoutes } from './routes/services';
import type { Store } from './store/store';

export interface AppOptions {
  config: Config;
  catalog: Catalog;
  /** Injected edges (tests and benchmarks): clock, uuids, fetch, and where logs go. */
  now?: () => number;
  uuid?: () => string;
  fetch?: typeof fetch;
  logStream?: NodeJS.WritableStream;
  /** CDS Hooks JWT verification (preHandler) for discovery, hook and feedback calls. */
  authenticate?: (request: import('fastify').FastifyRequest) => Promise<void>;
  /** An open feedback/audit store to use instead of CDS_DB_URL (tests); the app does not close it. */
  store?: Store;
  /** First audit-write retry delay in ms (tests shorten it). */
  auditRetryBaseMs?: number;
}

/** Per-request facts for the single log line written when the response is sent. */
export interface RequestSummary {
  serviceId?: string;
  hook?: string;
  hookInstance?: string;
  cardCount?: number;
  ruleIds?: string[];
  prefetch?: Record<string, string>;
  fhirFetches?: number;
  feedbackItems?: number;
  errorCode?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    cds: RequestSummary;
  }
  interface FastifyInstance {
    catalog: Catalog;
    config: Config;
  }
}

const FASTIFY_ERROR_OUTCOMES: Record<string, { status: number; code: CdsError['code']; issue: CdsError['issueType']; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'CDS_BODY_TOO_LARGE', issue: 'too-costly', message: 'Request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'CDS_UNSUPPORTED_MEDIA_TYPE', issue: 'not-supported', message: 'Content-Type must be application/json' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'CDS_REQUEST_INVALID', issue: 'invalid', message: 'The request body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'CDS_REQUEST_INVALID', issue: 'structure', message: 'The request body is not valid JSON' },
};

/** Builds the Fastify server with the service's plugins and routes; server.ts only listens. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, catalog } = options;
  if (config.auth === 'required' && !options.authenticate) {
    throw new TypeError('[auth] CDS_AUTH=required but no JWT verifier is configured');
  }
  const logger: FastifyServerOptions['logger'] = options.logStream
    ? { ...loggerOptions(config.logLevel), stream: options.logStream }
    : loggerOptions(config.logLevel);
  const app = Fastify({
    logger,
    bodyLimit: config.bodyLimit,
    // Fastify's own request lines are off: the onResponse hook below writes the one line per request.
    logController: new LogController({ disableRequestLogging: true }),
    // Prototype-poisoning payloads (__proto__, constructor.prototype) are rejected as 400.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    requestTimeout: 30_000,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  app.decorate('catalog', catalog);
  app.decorate('config', config);
  app.decorateRequest('cds', null as unknown as RequestSummary);
  app.addHook('onRequest', async (request) => {
    request.cds = {};
  });

  // CDS Hooks bodies are JSON; text/plain is refused with 415 instead of reaching validation.
  app.removeContentTypeParser('text/plain');
  // FHIR JSON is JSON: accept it with the same (secure) parser.
  app.addContentTypeParser('application/fhir+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  await app.register(cors, {
    origin: config.corsOrigins === '*' ? '*' : config.corsOrigins,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    maxAge: 600,
  });

  // One structured line per request: ids, counts and rule ids only — never bodies, names or tokens.
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const level = route === '/healthz' || route === '/readyz' || route === '/metrics' ? 'debug' : 'info';
    request.log[level](
      {
        method: request.method,
        route,
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        ...request.cds,
      },
      'request completed',
    );
  });

  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof CdsError) {
      request.cds.errorCode = error.code;
      if (error instanceof StoreUnavailableError) reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.code(error.statusCode).type('application/fhir+json').send(operationOutcome(error.code, error.issueType, error.message, error.expression));
    }
    const err = error as { code?: string; statusCode?: number; message?: string };
    const known = err.code ? FASTIFY_ERROR_OUTCOMES[err.code] : undefined;
    if (known) {
      request.cds.errorCode = known.code;
      return reply.code(known.status).type('application/fhir+json').send(operationOutcome(known.code, known.issue, known.message));
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      request.cds.errorCode = 'CDS_REQUEST_INVALID';
      const message = err.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' ? 'Invalid Content-Length' : 'The request could not be processed';
      return reply.code(err.statusCode).type('application/fhir+json').send(operationOutcome('CDS_REQUEST_INVALID', 'invalid', message));
    }
    // A bug: log it (no request data) and answer with nothing that could leak internals.
    request.log.error({ err: { type: (error as Error).name, message: err.message, stack: (error as Error).stack }, hookInstance: request.cds.hookInstance }, 'unhandled error');
    return reply.code(500).type('application/fhir+json').send(operationOutcome('CDS_REQUEST_INVALID', 'exception', 'Internal server error'));
  });

  app.setNotFoundHandler(async (request, reply) => {
    request.cds.errorCode = 'CDS_NOT_FOUND';
    return reply.code(404).type('application/fhir+json').send(operationOutcome('CDS_NOT_FOUND', 'not-found', `No route for ${request.method} ${request.url.split('?')[0]}`));
  });

  const now = options.now ?? Date.now;
  const metrics = createMetrics();
  await app.register(metricsPlugin, { metrics });
  await app.register(storePlugin, {
    config,
    metrics,
    now,
    ...(options.store ? { store: options.store } : {}),
    ...(options.auditRetryBaseMs !== undefined ? { auditRetryBaseMs: options.auditRetryBaseMs } : {}),
  });
  const fhirClient = new FhirClient({
    ...(options.fetch ? { fetch: options.fetch } : {}),
    maxPages: config.fhirMaxPages,
    maxResponseBytes: config.fhirMaxResponseBytes,
    maxResources: config.fhirMaxResources,
    observe: ({ outcome, durationMs }) => {
      metrics.fhirRequests.inc({ outcome });
      metrics.fhirDuration.observe({ outcome }, durationMs / 1000);
    },
  });
  await app.register(healthRoutes);
  await app.register(discoveryRoutes);
  await app.register(serviceRoutes, {
    deps: {
      catalog,
      fhirClient,
      now,
      uuid: options.uuid ?? randomUUID,
      fhirTimeoutMs: config.fhirTimeoutMs,
      maxMedicationReads: 50,
    },
    onAnswered: (call) => {
      metrics.observeHookCall(call);
      app.storeRuntime.recordHookCall(call);
    },
  });
  const runtime = app.storeRuntime;
  await app.register(feedbackRoutes, {
    catalog,
    store: runtime.store,
    metrics,
    now,
    feedbackComments: config.feedbackComments,
    flushAudit: async () => {
      const state = runtime.auditQueue.state();
      if (state.depth > 0 && !state.failing) await runtime.auditQueue.drain();
    },
    adminToken: config.adminToken,
    authMode: config.auth,
    authenticate: options.authenticate,
    log: app.log,
  });
  return app;
}
