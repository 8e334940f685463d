import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { adminTokenMatches } from './auth/admin-token';
import { tokenVerifierFromConfig } from './auth/from-config';
import type { ReplayCache } from './auth/replay-cache';
import type { TokenVerifier, VerifiedClient } from './auth/verify-token';
import type { Config } from './config/env';
import type { Dispatcher } from 'undici';
import { FhirClient, fhirPool } from './fhir/fhir-client';
import { WorkSlots } from './fhir/work-slots';
import type { Catalog } from './knowledge/types';
import { loggerOptions } from './logging';
import { createMetrics } from './metrics/metrics';
import authPlugin from './plugins/auth';
import errorHandlerPlugin from './plugins/error-handler';
import jsonBodyPlugin from './plugins/json-body';
import loadSheddingPlugin from './plugins/load-shedding';
import metricsPlugin from './plugins/metrics';
import rateLimitPlugin from './plugins/rate-limit';
import securityHeadersPlugin from './plugins/security-headers';
import storePlugin from './plugins/store';
import { discoveryRoutes } from './routes/discovery';
import { FEEDBACK_SUMMARY_ROUTE, feedbackRoutes } from './routes/feedback';
import { healthRoutes } from './routes/health';
import { serviceRoutes } from './routes/services';
import { DEFAULT_SMART_APP_DIR, smartAppBuilt, smartAppRoutes } from './routes/smart-app';
import type { Store } from './store/store';

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
  /** The calling EHR (verified issuer and tenant), or the presented issuer of a refused token. */
  issuer?: string;
  tenant?: string;
  /** Why a JWT was refused (stable reason code; the client only sees a bare 401). */
  authFailure?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    cds: RequestSummary;
    /** Set by the auth plugin once the CDS Hooks JWT is verified; null when CDS_AUTH=off. */
    cdsClient: VerifiedClient | null;
  }
  interface FastifyInstance {
    catalog: Catalog;
    config: Config;
  }
}

/** Builds the Fastify server with the service's plugins and routes; server.ts only listens. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, catalog } = options;
  const now = options.now ?? Date.now;
  // Built (and the issuer file checked) before anything listens: a bad trust setup stops start-up.
  // The shared (store-backed) replay cache exists once the store plugin is registered below; the
  // verifier is built now so a bad issuer file stops start-up before anything else happens.
  let storeReplayCache: ReplayCache | undefined;
  const replayCache: ReplayCache = options.replayCache ?? {
    seen: (jti, issuer, expiresAt) => {
      if (!storeReplayCache) throw new Error('replay cache not ready');
      return storeReplayCache.seen(jti, issuer, expiresAt);
    },
  };
  const tokenVerifier = config.auth === 'required' ? (options.tokenVerifier ?? tokenVerifierFromConfig(config, { now, replayCache })) : undefined;
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
  app.decorateRequest('cdsClient', null);
  app.addHook('onRequest', async (request) => {
    request.cds = {};
  });

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
  const metrics = createMetrics();
  await app.register(metricsPlugin, { metrics, serveOnMainPort: config.metricsPort === undefined });
  await app.register(storePlugin, {
    config,
    metrics,
    now,
    ...(options.store ? { store: options.store } : {}),
    ...(options.auditRetryBaseMs !== undefined ? { auditRetryBaseMs: options.auditRetryBaseMs } : {}),
  });
  storeReplayCache = app.storeRuntime.replayCache;

  // After CORS (a refused call still carries CORS headers, so a browser client can see the 401).
  if (tokenVerifier) {
    // Operators without a CDS Hooks JWT may read the feedback summary with CDS_ADMIN_TOKEN.
    const adminToken = config.adminToken;
    const admitsWithoutJwt = adminToken
      ? (request: FastifyRequest) => request.routeOptions.url === FEEDBACK_SUMMARY_ROUTE && adminTokenMatches(request.headers.authorization, adminToken)
      : undefined;
    await app.register(authPlugin, { verifier: tokenVerifier, publicBaseUrl: config.publicBaseUrl, ...(admitsWithoutJwt ? { admitsWithoutJwt } : {}) });
  }
  // After auth, so a verified client is counted as itself; before the routes it applies to.
  await app.register(rateLimitPlugin, { max: config.rateLimitMax, windowMs: config.rateLimitWindowMs });

  // One structured line per request: ids, counts and rule ids only — never bodies, names or tokens.
  app.addHook('onResponse', async (request, reply) => {
    if (request.cds.authFailure) metrics.jwtRejections.inc({ reason: request.cds.authFailure });
    const route = request.routeOptions.url ?? 'unmatched';
    // A refused token is at warn: to the caller (and in the CDS Hooks sandbox) it looks like "no
    // recommendations", so the reason must reach an operator who logs only warnings.
    const level = request.cds.authFailure ? 'warn' : route === '/healthz' || route === '/readyz' || route === '/metrics' ? 'debug' : 'info';
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

  // Every error, schema failure and unknown route answers with an OperationOutcome.
  await app.register(errorHandlerPlugin);

  // One pool and one set of decode slots per app: every hook call's client (forCall) shares them.
  let dispatcher = options.fhirDispatcher;
  if (!dispatcher) {
    const pool = fhirPool(config.fhirMaxSocketsPerOrigin);
    app.addHook('onClose', async () => pool.destroy());
    dispatcher = pool;
  }
  const fhirClient = new FhirClient({
    dispatcher,
    decodeSlots: new WorkSlots(config.fhirMaxConcurrentDecodes),
    maxPages: config.fhirMaxPages,
    maxResponseBytes: config.fhirMaxResponseBytes,
    maxResources: config.fhirMaxResources,
    maxCallBytes: config.fhirMaxCallBytes,
    observe: ({ outcome, durationMs }) => {
      metrics.fhirRequests.inc({ outcome });
      metrics.fhirDuration.observe({ outcome }, durationMs / 1000);
    },
  });
  const smartAppDir = options.smartAppDir ?? DEFAULT_SMART_APP_DIR;
  await app.register(smartAppRoutes, { dir: smartAppDir, clientId: config.smartClientId });
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
      ...(smartAppBuilt(smartAppDir) ? { appLaunchUrl: `${config.publicBaseUrl}/smart-app/launch.html` } : {}),
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
    feedbackQuotaBytes: config.feedbackQuotaBytes,
    flushAudit: async () => {
      const state = runtime.auditQueue.state();
      if (state.depth > 0 && !state.failing) await runtime.auditQueue.drain();
    },
    log: app.log,
  });
  return app;
}
