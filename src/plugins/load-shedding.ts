import underPressure from '@fastify/under-pressure';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { OverloadedError } from '../errors';

export interface LoadSheddingOptions {
  /** Shed while the mean event-loop delay over one sample exceeds this (ms); 0 turns the check off. */
  maxEventLoopDelayMs: number;
  /** Shed while event-loop utilisation (0–1) exceeds this; 0 turns the check off. */
  maxEventLoopUtilization: number;
  /** Retry-After on a shed request. */
  retryAfterSeconds: number;
  /** Sampling period (ms); @fastify/under-pressure's default of 1 s unless a test shortens it. */
  sampleIntervalMs?: number;
}

/** Probes and scrapes are never shed: an overloaded replica is alive, and killing it makes things worse. */
const EXEMPT_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Load shedding by server pressure (@fastify/under-pressure): when this replica's event loop falls
 * behind, new calls get 503 CDS_OVERLOADED with Retry-After at once, instead of queueing until the
 * EHR gives up. A 503 is retryable: a load balancer sends it to another replica, a client retries.
 */
const loadShedding: FastifyPluginAsync<LoadSheddingOptions> = async (app, options) => {
  for (const name of ['maxEventLoopDelayMs', 'maxEventLoopUtilization', 'retryAfterSeconds'] as const) {
    if (!Number.isFinite(options[name]) || options[name] < 0) throw new TypeError(`[load-shedding] ${name} must be a non-negative number`);
  }
  if (options.maxEventLoopUtilization > 1) throw new TypeError('[load-shedding] maxEventLoopUtilization must be between 0 and 1');
  await app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs,
    maxEventLoopUtilization: options.maxEventLoopUtilization,
    ...(options.sampleIntervalMs !== undefined ? { sampleInterval: options.sampleIntervalMs } : {}),
    // Our handler answers (through the app's error handler: an OperationOutcome like every error).
    pressureHandler: async (request) => {
      if (EXEMPT_ROUTES.has(request.routeOptions.url ?? '')) return;
      throw new OverloadedError(options.retryAfterSeconds);
    },
  });
};

export default fp(loadShedding, { name: 'cds-load-shedding', fastify: '5.x' });
