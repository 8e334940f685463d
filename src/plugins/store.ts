import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { observedStore } from '../store/observed-store';
import { isTransientStoreError, openStore } from '../store/open-store';
import type { Store } from '../store/store';

export interface StorePluginOptions {
  /** An already-open store (tests): migrated like any other, but not closed by the app. */
  store?: Store;
}

/** What the store plugin knows of the store's health; the audit queue and retention build on it. */
export interface StoreHealth {
  /** The last store operation succeeded. */
  readonly up: boolean;
  /** Migrations have run: audit writes and retention may start. */
  readonly migrated: boolean;
  /** A live ping, bounded to a second: false when the store does not answer. */
  reachable(): Promise<boolean>;
  /** Runs `fn` once the store is migrated: now if it is, else when a start-up retry succeeds. */
  whenMigrated(fn: () => void): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The feedback/audit store (CDS_DB_URL or injected), observed: failures count in metrics and health. */
    store: Store;
    storeHealth: StoreHealth;
  }
}

/** Error detail safe to log: code and message, never SQL parameters or row contents. */
export function describe(error: unknown): { code?: string; message: string } {
  const e = error as { code?: unknown; message?: unknown };
  return { ...(typeof e?.code === 'string' ? { code: e.code } : {}), message: typeof e?.message === 'string' ? e.message.slice(0, 300) : String(error) };
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
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

/** Opens the store (a bad CDS_DB_URL stops start-up naming it) and observes it for metrics and health. */
function openObservedStore(app: FastifyInstance, options: StorePluginOptions, health: { up: boolean }): { raw: Store; store: Store } {
  const { config, metrics } = app;
  const log = app.log.child({ component: 'store' });
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
  return { raw, store };
}

/**
 * Opens the store named by CDS_DB_URL (or uses an injected one), migrates it, and decorates `store`
 * and `storeHealth`. A database that cannot be reached yet (restarting, network) does not stop the
 * service: cards need no database, so it starts, reports "migrating" on /readyz and retries. Any
 * other failure (bad schema, permissions, a bug) stops start-up.
 */
const storePlugin: FastifyPluginAsync<StorePluginOptions> = async (app, options) => {
  const log = app.log.child({ component: 'store' });
  const owned = options.store === undefined;
  const state = { up: true, migrated: false, closing: false };
  const { raw, store } = openObservedStore(app, options, state);
  const onMigrated: (() => void)[] = [];
  let migrationTimer: NodeJS.Timeout | undefined;

  async function migrate(attempt = 1): Promise<void> {
    try {
      const result = await store.migrate();
      state.migrated = true;
      if (result.applied.length > 0) log.info({ applied: result.applied, version: result.current, dialect: store.dialect }, 'store migrated');
      for (const fn of onMigrated.splice(0)) fn();
    } catch (error) {
      if (!isTransientStoreError(error) || state.closing) {
        if (attempt === 1) throw owned ? storeStartupError(app.config.dbUrl, 'cannot prepare the store', error) : error;
        log.error({ err: describe(error) }, 'store migration failed');
        return;
      }
      const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt - 1, 6));
      log.warn({ err: describe(error), retryInMs: delay }, 'store unreachable at start-up; cards are served, audit is queued');
      migrationTimer = setTimeout(() => void migrate(attempt + 1), delay);
      migrationTimer.unref();
    }
  }

  const health: StoreHealth = {
    get up() {
      return state.up;
    },
    get migrated() {
      return state.migrated;
    },
    reachable: () => withTimeout(store.ping(), 1000).then(
      () => true,
      () => false,
    ),
    whenMigrated: (fn) => (state.migrated ? fn() : void onMigrated.push(fn)),
  };
  app.decorate('store', store);
  app.decorate('storeHealth', health);
  // No migration retry once shutdown begins (retention and the audit queue stop in their own onClose).
  const stopMigrating = async () => {
    state.closing = true;
    if (migrationTimer) clearTimeout(migrationTimer);
  };
  app.addHook('preClose', stopMigrating);
  // Registered first, so it runs last: the audit queue has drained by then. An injected store stays open.
  app.addHook('onClose', async () => {
    await stopMigrating();
    if (owned) await raw.close();
  });
  await migrate();
};

export default fp(storePlugin, { name: 'store', fastify: '5.x', dependencies: ['config', 'metrics'] });
