import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { RetentionSchedule } from '../operations/retention';
import { describe } from './store';

declare module 'fastify' {
  interface FastifyInstance {
    /** The periodic purge of old audit, card, feedback and jti rows (CDS_RETENTION_DAYS). */
    retention: RetentionSchedule;
  }
}

/** Purges old rows at start-up and then periodically, once the store is migrated; stops on close. */
const retentionPlugin: FastifyPluginAsync<{ now: () => number }> = async (app, options) => {
  const { config, metrics } = app;
  const log = app.log.child({ component: 'store' });
  const retention = new RetentionSchedule({
    store: app.store,
    retentionDays: config.retentionDays,
    feedbackRetentionDays: config.feedbackRetentionDays,
    now: options.now,
    onPurged: (result) => {
      metrics.retentionPurged.inc({ table: 'hook_calls' }, result.hookCalls);
      metrics.retentionPurged.inc({ table: 'issued_cards' }, result.issuedCards);
      metrics.retentionPurged.inc({ table: 'feedback' }, result.feedback);
      metrics.retentionPurged.inc({ table: 'jwt_replay' }, result.replayEntries);
      if (result.hookCalls + result.issuedCards + result.feedback > 0)
        log.info({ ...result, retentionDays: config.retentionDays, feedbackRetentionDays: config.feedbackRetentionDays }, 'retention purge');
    },
    onError: (error) => log.warn({ err: describe(error) }, 'retention purge failed; retried at the next interval'),
  });
  let stopped = false;
  app.storeHealth.whenMigrated(() => {
    if (!stopped) retention.start();
  });
  app.decorate('retention', retention);
  // Registered after the audit queue, so it stops before the queue drains (and before the store closes).
  app.addHook('onClose', async () => {
    stopped = true;
    await retention.stop();
  });
};

export default fp(retentionPlugin, { name: 'retention', fastify: '5.x', dependencies: ['config', 'metrics', 'store'] });
