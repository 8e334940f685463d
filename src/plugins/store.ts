import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { AuditQueue, type AuditQueueState } from '../audit/audit-queue';
import { hookCallRecord, type HookCall } from '../audit/hook-call';
import { patientHasher } from '../audit/patient-hash';
import { StoreReplayCache } from '../auth/store-replay-cache';
import type { Config } from '../config/env';
import type { Metrics } from '../metrics/metrics';
import { RetentionSchedule } from '../operations/retention';
import { observedStore } from '../store/observed-store';
import { isTransientStoreError, openStore } from '../store/open-store';
import type { HookCallRecord, Store } from '../store/store';

export interface StorePluginOptions {
  config: Config;
  metrics: Metrics;
  now: () => number;
  /** An already-open store (tests): migrated like any other, but not closed by the app. */
  store?: Store;
  /** Audit retry backoff (tests shorten it). */
  auditRetryBaseMs?: number;
}

export interface StoreStatus {
  status: 'up' | 'unavailable' | 'migrating';
  dialect: Store['dialect'];
  auditQueue: AuditQueueState;
}

/** Error detail safe to log: code and message, never SQL parameters or row contents. */
function describe(error: unknown): { code?: string; message: string } {
  const e = error as { code?: unknown; message?: unknown };
  return { ...(typeof e?.code === 'string' ? { code: e.code } : {}), message: typeof e?.message === 'string' ? e.message.slice(0, 300) : String(error) };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/** CDS_DB_URL without credentials or query (which may hold a password), for messages. */
function describeDbUrl(url: string): string {
  if (url.startsWith('sqlite:')) return url;
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return 'an unparsable URL';
  }
}

/**
 * A store that cannot be opened or migrated at start-up (unwritable SQLite path, PostgreSQL TLS or
 * permission errors) stops the service with a message naming CDS_DB_URL, so an operator knows
 * which setting to fix; the cause's code and message follow (never the URL's credentials).
 */
function storeStartupError(url: string, what: string, error: unknown): TypeError {
  if (error instanceof TypeError && error.message.includes('CDS_DB_URL')) return error;
  const e = error as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message.replaceAll(url, describeDbUrl(url)) : String(error);
  const code = typeof e?.code === 'string' && !message.startsWith(e.code) ? `${e.code}: ` : '';
  const hint = /ssl|tls|certificate/i.test(message)
    ? ' (TLS to PostgreSQL: check sslmode in CDS_DB_URL and the CA; see README "Docker and Kubernetes")'
    : /EACCES|EROFS|readonly|unable to open/i.test(`${code}${message}`)
      ? ' (the SQLite file and its directory must be writable by the service; on a read-only root file system use a mounted volume or PostgreSQL)'
      : '';
  return new TypeError(`[store] CDS_DB_URL=${describeDbUrl(url)}: ${what}: ${code}${message}${hint}`, { cause: error });
}

function createStoreRuntime(app: FastifyInstance, options: StorePluginOptions) {
  const { config, metrics, now } = options;
  const log = app.log.child({ component: 'store' });
  const owned = options.store === undefined;
  const health = { up: true, migrated: false };
  let raw: Store;
  try {
    raw =
      options.store ??
      openStore(config.dbUrl, {
        onPoolError: (error) => log.warn({ err: describe(error) }, 'store connection lost (the pool reconnects)'),
      });
  } catch (error) {
    throw storeStartupError(config.dbUrl, 'cannot open the store', error);
  }
  const store = observedStore(raw, {
    onSuccess: () => {
      health.up = true;
    },
    onError: (operation) => {
      health.up = false;
      metrics.storeErrors.inc({ operation });
    },
  });

  const hasher = patientHasher(config.auditHmacKey);
  if (!hasher.configured) {
    log.warn('CDS_AUDIT_HMAC_KEY is not set: audit patient hashes use a random per-process key (development only)');
  }

  const queue = new AuditQueue<HookCallRecord>({
    maxSize: config.auditQueueMax,
    // 20 ms: at a few hundred calls per second, one transaction per batch instead of per call.
    flushDelayMs: 20,
    ...(options.auditRetryBaseMs !== undefined ? { baseDelayMs: options.auditRetryBaseMs } : {}),
    write: async (batch) => {
      if (!health.migrated) throw new Error('the store is not migrated yet');
      await store.recordHookCalls(batch);
    },
    onDrop: (dropped, total) => {
      metrics.auditDropped.inc(dropped);
      log.error({ dropped, totalDropped: total, maxSize: config.auditQueueMax }, 'audit queue full: oldest audit records dropped');
    },
    onError: (error, failures) => {
      // First failure, then every 10th: an outage must be visible without flooding the log.
      if (failures === 1 || failures % 10 === 0) log.warn({ err: describe(error), failures, queued: queue.state().depth }, 'audit write failed; records kept in memory and retried');
    },
    onRecovered: (failures) => log.info({ failures }, 'audit writes recovered'),
  });
  metrics.bindStoreState({ audit: () => queue.state(), up: () => health.up && health.migrated });

  const replayCache = new StoreReplayCache(store, {
    now,
    onUnavailable: (error) => {
      metrics.jtiReplayUnavailable.inc();
      log.warn({ err: describe(error) }, 'jti replay check: the store did not answer in time; call refused with 503');
    },
  });

  const retention = new RetentionSchedule({
    store,
    retentionDays: config.retentionDays,
    feedbackRetentionDays: config.feedbackRetentionDays,
    now,
    onPurged: (result) => {
      metrics.retentionPurged.inc({ table: 'hook_calls' }, result.hookCalls);
      metrics.retentionPurged.inc({ table: 'issued_cards' }, result.issuedCards);
      metrics.retentionPurged.inc({ table: 'feedback' }, result.feedback);
      metrics.retentionPurged.inc({ table: 'jwt_replay' }, result.replayEntries);
      if (result.hookCalls + result.issuedCards + result.feedback > 0) log.info({ ...result, retentionDays: config.retentionDays, feedbackRetentionDays: config.feedbackRetentionDays }, 'retention purge');
    },
    onError: (error) => log.warn({ err: describe(error) }, 'retention purge failed; retried at the next interval'),
  });

  let migrationTimer: NodeJS.Timeout | undefined;
  let closing = false;
  /**
   * Start-up migration. A database that cannot be reached yet (restarting, network) does not stop
   * the service: cards need no database, so it starts, reports "migrating" on /readyz and retries.
   * Any other failure (bad schema, permissions, a bug) stops start-up.
   */
  async function migrate(attempt = 1): Promise<void> {
    try {
      const result = await store.migrate();
      health.migrated = true;
      if (result.applied.length > 0) log.info({ applied: result.applied, version: result.current, dialect: store.dialect }, 'store migrated');
      retention.start();
    } catch (error) {
      if (!isTransientStoreError(error) || closing) {
        if (attempt === 1) throw owned ? storeStartupError(config.dbUrl, 'cannot prepare the store', error) : error;
        log.error({ err: describe(error) }, 'store migration failed');
        return;
      }
      const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt - 1, 6));
      log.warn({ err: describe(error), retryInMs: delay }, 'store unreachable at start-up; cards are served, audit is queued');
      migrationTimer = setTimeout(() => void migrate(attempt + 1), delay);
      migrationTimer.unref();
    }
  }

  return {
    store,
    replayCache,
    retention,
    auditQueue: queue,
    patientHasher: hasher,
    migrate,
    /** The hook route's observer: queue the audit record (never throws, never waits). */
    recordHookCall(call: HookCall): void {
      try {
        queue.enqueue(hookCallRecord(call, hasher));
      } catch (error) {
        log.error({ err: describe(error) }, 'could not queue an audit record');
      }
    },
    /** For /readyz: a live ping (bounded) plus the queue's state. */
    async status(): Promise<StoreStatus> {
      let reachable = true;
      try {
        await withTimeout(store.ping(), 1000);
      } catch {
        reachable = false;
      }
      const auditQueue = queue.state();
      const status = !reachable || auditQueue.failing ? 'unavailable' : health.migrated ? 'up' : 'migrating';
      return { status, dialect: store.dialect, auditQueue };
    },
    async close(): Promise<void> {
      closing = true;
      if (migrationTimer) clearTimeout(migrationTimer);
      await retention.stop();
      // Last chance for queued audit records; bounded so shutdown cannot hang on a dead database.
      if (health.migrated) await withTimeout(queue.drain(), 5000).catch(() => undefined);
      const left = queue.state().depth;
      if (left > 0) log.error({ lost: left }, 'shutting down with audit records that could not be written');
      queue.close();
      if (owned) await raw.close();
    },
  };
}

export type StoreRuntime = ReturnType<typeof createStoreRuntime>;

declare module 'fastify' {
  interface FastifyInstance {
    storeRuntime: StoreRuntime;
  }
}

/**
 * Opens the store named by CDS_DB_URL (or uses an injected one), migrates it, and decorates
 * `storeRuntime`: the store, the audit queue, the jti replay cache and the retention schedule.
 */
const storePlugin: FastifyPluginAsync<StorePluginOptions> = async (app, options) => {
  if (!options.config || !options.metrics || typeof options.now !== 'function') throw new TypeError('[store] config, metrics and now are required');
  const runtime = createStoreRuntime(app, options);
  app.decorate('storeRuntime', runtime);
  app.addHook('onClose', async () => runtime.close());
  await runtime.migrate();
};

export default fp(storePlugin, { name: 'store', fastify: '5.x' });
