import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { VerifiedClient } from '../auth/verify-token';

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
}

/**
 * Decorates every request with its summary (`request.cds`, filled by plugins and routes) and writes
 * one structured line per request: ids, counts and rule ids only — never bodies, names or tokens.
 * Registered before every other plugin with an onRequest hook, so the summary exists when they run.
 */
const requestLogPlugin: FastifyPluginAsync = async (app) => {
  const { metrics } = app;
  app.decorateRequest('cds', null as unknown as RequestSummary);
  app.decorateRequest('cdsClient', null);
  app.addHook('onRequest', async (request) => {
    request.cds = {};
  });
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
};

export default fp(requestLogPlugin, { name: 'request-log', fastify: '5.x', dependencies: ['metrics'] });
