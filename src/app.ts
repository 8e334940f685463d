import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ReplayCache } from './auth/replay-cache';
import type { TokenVerifier } from './auth/verify-token';
import type { Config } from './config/env';
import type { Dispatcher } from 'undici';
import type { Catalog } from './knowledge/types';
import { loggerOptions } from './logging';
import { createMetrics } from './metrics/metrics';
import auditQueuePlugin from './plugins/audit-queue';
import authFromConfigPlugin from './plugins/auth-from-config';
import catalogPlugin from './plugins/catalog';
import configPlugin from './plugins/config';
import fhirClientPlugin from './plugins/fhir-client';
import errorHandlerPlugin from './plugins/error-handler';
import jsonBodyPlugin from './plugins/json-body';
import loadSheddingPlugin from './plugins/load-shedding';
import metricsPlugin from './plugins/metrics';
import rateLimitPlugin from './plugins/rate-limit';
import replayCachePlugin from './plugins/replay-cache';
import requestLogPlugin from './plugins/request-log';
import retentionPlugin from './plugins/retention';
import securityHeadersPlugin from './plugins/security-headers';
import storePlugin from './plugins/store';
import { discoveryRoutes } from './routes/discovery';
import { feedbackRoutes, type FeedbackRouteOptions } from './routes/feedback';
import { healthRoutes } from './routes/health';
import { serviceRoutes } from './routes/services';
import { DEFAULT_SMART_APP_DIR, smartAppBuilt, smartAppRoutes } from './routes/smart-app';
import type { Store } from './store/store';

export type { RequestSummary } from './plugins/request-log';

export interface AppOptions {
  config: Config;
  catalog: Catalog;
  /** Injected edges (tests and benchmarks): clock, uuids, the FHIR connection pool, and where logs go. */
  now?: () => number;
  uuid?: () => string;
  fhirDispatcher?: Dispatcher;
  logStream?: NodeJS.WritableStream;
  /** An open feedback/audit store to use instead of CDS_DB_URL (tests); the app does not close it. */
  store?: Store;
  /** How often event-loop pressure is sampled, in ms (tests shorten it; 1000 by default). */
  pressureSampleIntervalMs?: number;
  /** First audit-write retry delay in ms (tests shorten it). */
  auditRetryBaseMs?: number;
  /**
   * CDS Hooks JWT verification when CDS_AUTH=required. By default it is built from the config
   * (CDS_TRUSTED_ISSUERS) with the store's replay cache, so a jti replayed to another replica is
   * refused; tests may inject either.
   */
  tokenVerifier?: TokenVerifier;
  replayCache?: ReplayCache;
  /** The built SMART app (dist/smart-app by default); tests point it at a fixture. */
  smartAppDir?: string;
}

/** Builds the Fastify server: registers the service's plugins (which do the wiring) and routes; server.ts only listens. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const now = options.now ?? Date.now;
  const logger: FastifyServerOptions['logger'] = options.logStream
    ? { ...loggerOptions(config.logLevel), stream: options.logStream }
    : loggerOptions(config.logLevel);
  const app = Fastify({
    logger,
    bodyLimit: config.bodyLimit,
    // Fastify's own request lines are off: the request-log plugin writes the one line per request.
    logController: new LogController({ disableRequestLogging: true }),
    // Prototype-poisoning payloads (__proto__, constructor.prototype) are rejected as 400.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    requestTimeout: 30_000,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  try {
    await registerPlugins(app, options, now);
  } catch (error) {
    // Start-up stopped (bad CDS_DB_URL, bad issuer file...): release what was opened, then report it.
    await app.close().catch(() => undefined);
    throw error;
  }

  // Every error, schema failure and unknown route answers with an OperationOutcome.
  await app.register(errorHandlerPlugin);

  const smartAppDir = options.smartAppDir ?? DEFAULT_SMART_APP_DIR;
  await app.register(smartAppRoutes, { dir: smartAppDir, clientId: config.smartClientId });
  await app.register(healthRoutes);
  await app.register(discoveryRoutes);
  await app.register(serviceRoutes, {
    deps: {
      catalog: app.catalog,
      fhirClient: app.fhirClient,
      now,
      uuid: options.uuid ?? randomUUID,
      fhirTimeoutMs: config.fhirTimeoutMs,
      maxMedicationReads: 50,
      ...(smartAppBuilt(smartAppDir) ? { appLaunchUrl: `${config.publicBaseUrl}/smart-app/launch.html` } : {}),
    },
    onAnswered: (call) => {
      app.metrics.observeHookCall(call);
      app.recordHookCall(call);
    },
  });
  await app.register(feedbackRoutes, feedbackRouteOptions(app, now));
  return app;
}

/**
 * The plugins, in an order their declared `dependencies` check at registration:
 * config, catalog → metrics → request-log → limits → store → audit-queue, replay-cache, retention →
 * auth (needs replay-cache) → rate-limit (after auth) ; fhir-client (needs metrics).
 */
async function registerPlugins(app: FastifyInstance, options: AppOptions, now: () => number): Promise<void> {
  const { config } = options;
  await app.register(configPlugin, { config });
  await app.register(catalogPlugin, { catalog: options.catalog });
  await app.register(metricsPlugin, { metrics: createMetrics(), serveOnMainPort: config.metricsPort === undefined });
  // First onRequest hook: every later plugin (load shedding, auth) may write the request's summary.
  await app.register(requestLogPlugin);
  // CDS Hooks bodies are JSON or FHIR JSON (secure parser, depth limit); text/plain is refused with 415.
  await app.register(jsonBodyPlugin);
  await app.register(securityHeadersPlugin);
  await app.register(cors, {
    // An empty list (production's default) answers no origin: browsers get no CORS grant.
    origin: config.corsOrigins === '*' ? '*' : config.corsOrigins.length > 0 ? config.corsOrigins : false,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    maxAge: 600,
  });
  // Before auth and everything costly: an overloaded replica refuses early and cheaply, with a
  // status the client or load balancer retries elsewhere. After CORS, so a browser can read the 503.
  await app.register(loadSheddingPlugin, {
    maxEventLoopDelayMs: config.shedEventLoopDelayMs,
    maxEventLoopUtilization: config.shedEventLoopUtilization,
    retryAfterSeconds: 2,
    ...(options.pressureSampleIntervalMs !== undefined ? { sampleIntervalMs: options.pressureSampleIntervalMs } : {}),
  });
  // onClose runs in reverse: retention stops, then the audit queue drains, then the store closes.
  await app.register(storePlugin, options.store ? { store: options.store } : {});
  await app.register(auditQueuePlugin, options.auditRetryBaseMs !== undefined ? { retryBaseMs: options.auditRetryBaseMs } : {});
  await app.register(replayCachePlugin, { now, ...(options.replayCache ? { replayCache: options.replayCache } : {}) });
  await app.register(retentionPlugin, { now });
  // After CORS (a refused call still carries CORS headers, so a browser client can see the 401).
  await app.register(authFromConfigPlugin, { now, ...(options.tokenVerifier ? { verifier: options.tokenVerifier } : {}) });
  // After auth, so a verified client is counted as itself; before the routes it applies to.
  await app.register(rateLimitPlugin, { max: config.rateLimitMax, windowMs: config.rateLimitWindowMs });
  await app.register(fhirClientPlugin, options.fhirDispatcher ? { dispatcher: options.fhirDispatcher } : {});
}

/** Feedback reads and writes the store; a summary first flushes queued audit records (unless the store is failing). */
function feedbackRouteOptions(app: FastifyInstance, now: () => number): FeedbackRouteOptions {
  return {
    catalog: app.catalog,
    store: app.store,
    metrics: app.metrics,
    now,
    feedbackComments: app.config.feedbackComments,
    feedbackQuotaBytes: app.config.feedbackQuotaBytes,
    flushAudit: async () => {
      const state = app.auditQueue.state();
      if (state.depth > 0 && !state.failing) await app.auditQueue.drain();
    },
    log: app.log,
  };
}
