import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { AuditQueue, type AuditQueueState } from '../audit/audit-queue';
import { hookCallRecord, type HookCall } from '../audit/hook-call';
import { patientHasher } from '../audit/patient-hash';
import type { HookCallRecord, Store } from '../store/store';
import { describe, withTimeout } from './store';

export interface AuditQueuePluginOptions {
  /** First audit-write retry delay in ms (tests shorten it). */
  retryBaseMs?: number;
}

/** The store as /readyz reports it: reachable, migrated, and audit records being written. */
export interface StoreStatus {
  status: 'up' | 'unavailable' | 'migrating';
  dialect: Store['dialect'];
  auditQueue: AuditQueueState;
}

declare module 'fastify' {
  interface FastifyInstance {
    auditQueue: AuditQueue<HookCallRecord>;
    /** The hook route's observer: queue the audit record (never throws, never waits). */
    recordHookCall(call: HookCall): void;
    /** For /readyz: a live ping (bounded) plus the queue's state. */
    storeStatus(): Promise<StoreStatus>;
  }
}

/**
 * Audit records of hook calls, written to the store in batches by an in-memory queue that retries
 * while the store is down (and drops the oldest when full). On close it drains what it can — its
 * onClose runs before the store's, which was registered first.
 */
const auditQueuePlugin: FastifyPluginAsync<AuditQueuePluginOptions> = async (app, options) => {
  const { config, metrics, store, storeHealth } = app;
  const log = app.log.child({ component: 'store' });
  const hasher = patientHasher(config.auditHmacKey);
  if (!hasher.configured) {
    log.warn('CDS_AUDIT_HMAC_KEY is not set: audit patient hashes use a random per-process key (development only)');
  }
  const queue = new AuditQueue<HookCallRecord>({
    maxSize: config.auditQueueMax,
    // 20 ms: at a few hundred calls per second, one transaction per batch instead of per call.
    flushDelayMs: 20,
    ...(options.retryBaseMs !== undefined ? { baseDelayMs: options.retryBaseMs } : {}),
    write: async (batch) => {
      if (!storeHealth.migrated) throw new Error('the store is not migrated yet');
      await store.recordHookCalls(batch);
    },
    onDrop: (dropped, total) => {
      metrics.auditDropped.inc(dropped);
      log.error({ dropped, totalDropped: total, maxSize: config.auditQueueMax }, 'audit queue full: oldest audit records dropped');
    },
    onError: (error, failures) => {
      // First failure, then every 10th: an outage must be visible without flooding the log.
      if (failures === 1 || failures % 10 === 0)
        log.warn({ err: describe(error), failures, queued: queue.state().depth }, 'audit write failed; records kept in memory and retried');
    },
    onRecovered: (failures) => log.info({ failures }, 'audit writes recovered'),
  });
  metrics.bindStoreState({ audit: () => queue.state(), up: () => storeHealth.up && storeHealth.migrated });

  app.decorate('auditQueue', queue);
  app.decorate('recordHookCall', (call: HookCall): void => {
    try {
      queue.enqueue(hookCallRecord(call, hasher));
    } catch (error) {
      log.error({ err: describe(error) }, 'could not queue an audit record');
    }
  });
  app.decorate('storeStatus', async (): Promise<StoreStatus> => {
    const reachable = await storeHealth.reachable();
    const auditQueue = queue.state();
    const status = !reachable || auditQueue.failing ? 'unavailable' : storeHealth.migrated ? 'up' : 'migrating';
    return { status, dialect: store.dialect, auditQueue };
  });
  app.addHook('onClose', async () => {
    // Last chance for queued audit records; bounded so shutdown cannot hang on a dead database.
    if (storeHealth.migrated) await withTimeout(queue.drain(), 5000).catch(() => undefined);
    const left = queue.state().depth;
    if (left > 0) log.error({ lost: left }, 'shutting down with audit records that could not be written');
    queue.close();
  });
};

export default fp(auditQueuePlugin, { name: 'audit-queue', fastify: '5.x', dependencies: ['config', 'metrics', 'store'] });
