import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { RateLimitedError } from '../errors';

export interface RateLimitPluginOptions {
  /** Requests per client per window. */
  max: number;
  windowMs: number;
}

/** Probes and scrapes must never be throttled (a throttled health check restarts a healthy pod). */
const EXEMPT_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The client a request counts against: the verified EHR (issuer + tenant) when CDS_AUTH=required —
 * one hospital behind a NAT is one client, two tenants of one EHR are two — else the peer address.
 * Runs after the auth hook, so `cdsClient` is set for every call that reaches it.
 */
function rateLimitKey(request: FastifyRequest): string {
  const client = request.cdsClient;
  return client ? `client:${JSON.stringify([client.issuer, client.tenant ?? null])}` : `ip:${request.ip}`;
}

/** Per-client rate limit on every route but health/readiness/metrics; 429 is an OperationOutcome with Retry-After. */
const rateLimitPlugin: FastifyPluginAsync<RateLimitPluginOptions> = async (app, options) => {
  if (!Number.isInteger(options.max) || options.max < 1) throw new TypeError('[rate-limit] max must be a positive integer');
  if (!Number.isInteger(options.windowMs) || options.windowMs < 1) throw new TypeError('[rate-limit] windowMs must be a positive integer');
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    max: options.max,
    timeWindow: options.windowMs,
    keyGenerator: rateLimitKey,
    allowList: (request) => EXEMPT_ROUTES.has(request.routeOptions.url ?? ''),
    errorResponseBuilder: (_request, context) => new RateLimitedError(Math.max(1, Math.ceil(context.ttl / 1000))),
  });
};

export default fp(rateLimitPlugin, { name: 'cds-rate-limit', fastify: '5.x' });
