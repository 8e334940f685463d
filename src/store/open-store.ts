import { openPostgresStore, type PostgresStoreOptions } from './postgres-store';
import { openSqliteStore } from './sqlite-store';
import type { Store } from './store';

/** The adapter CDS_DB_URL names: `sqlite:PATH` (embedded default) or `postgres://…` / `postgresql://…`. */
export function openStore(url: string, options: PostgresStoreOptions = {}): Store {
  if (url.startsWith('sqlite:')) return openSqliteStore(url);
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgresStore(url, options);
  throw new TypeError(`[store] CDS_DB_URL must start with sqlite: or postgres:// (got '${url.split(':')[0]}:…')`);
}

/**
 * Connection-level failures worth retrying (server down, restarting, unreachable, pool timeout), as
 * opposed to a wrong schema or a bug, which should stop start-up.
 */
export function isTransientStoreError(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE', 'SQLITE_BUSY', 'SQLITE_LOCKED'].includes(code)) return true;
  // PostgreSQL SQLSTATE classes 08 (connection exception) and 57P0x (shutdown, cannot connect now).
  if (/^08/.test(code) || /^57P0[1-3]$/.test(code) || code === '53300') return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connect ECONNREFUSED/i.test(message);
}
