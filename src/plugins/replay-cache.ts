import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { ReplayCache } from '../auth/replay-cache';
import { StoreReplayCache } from '../auth/store-replay-cache';
import { describe } from './store';

export interface ReplayCachePluginOptions {
  now: () => number;
  /** Used instead of the store-backed cache (tests). */
  replayCache?: ReplayCache;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The jti replay cache the JWT verifier checks: in the store, so every replica sees every jti. */
    replayCache: ReplayCache;
  }
}

/**
 * The store-backed jti replay cache. It fails closed: when the store does not answer in time the
 * verifier refuses the call with 503 (and Retry-After), never accepting a token it could not check.
 */
const replayCachePlugin: FastifyPluginAsync<ReplayCachePluginOptions> = async (app, options) => {
  const log = app.log.child({ component: 'store' });
  const cache =
    options.replayCache ??
    new StoreReplayCache(app.store, {
      now: options.now,
      onUnavailable: (error) => {
        app.metrics.jtiReplayUnavailable.inc();
        log.warn({ err: describe(error) }, 'jti replay check: the store did not answer in time; call refused with 503');
      },
    });
  app.decorate('replayCache', cache);
};

export default fp(replayCachePlugin, { name: 'replay-cache', fastify: '5.x', dependencies: ['metrics', 'store'] });
