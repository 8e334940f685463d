import { Pool, types as pgTypes, type CustomTypesConfig, type PoolClient, type QueryResult } from 'pg';
import { POSTGRES_MIGRATIONS } from './migrations/postgres';
import type { SqlDatabase, SqlExecutor, SqlRow, SqlValue } from './sql';
import { SqlStore } from './sql-store';

/** `?` → `$1, $2, …` (the repository's SQL has no `?` inside string literals). */
function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

// BIGINT (epoch ms, counts) as numbers, not strings; safe below 2^53.
const INT8_OID = 20;
const types: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pgTypes.getTypeParser(oid, format ?? 'text')) as CustomTypesConfig['getTypeParser'],
};

/** Advisory lock key for migrations: one replica migrates, the others wait and find nothing to do. */
const MIGRATION_LOCK_KEY = 7_253_810_417;

function executorOf(target: Pick<Pool | PoolClient, 'query'>): SqlExecutor {
  return {
    all: async <T extends SqlRow>(sql: string, params: readonly SqlValue[] = []) =>
      ((await target.query(numberPlaceholders(sql), params as unknown[])) as QueryResult<T>).rows,
    run: async (sql: string, params: readonly SqlValue[] = []) => (await target.query(numberPlaceholders(sql), params as unknown[])).rowCount ?? 0,
    script: async (sql: string) => {
      await target.query(sql);
    },
  };
}

class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres' as const;
  readonly migrationPrelude: string | undefined;
  private readonly pooled: SqlExecutor;
  private readonly urgent: SqlExecutor;

  constructor(
    private readonly pool: Pool,
    private readonly urgentPool: Pool,
    schema: string | undefined,
  ) {
    this.pooled = executorOf(pool);
    this.urgent = executorOf(urgentPool);
    this.migrationPrelude = schema ? `CREATE SCHEMA IF NOT EXISTS "${schema}"` : undefined;
  }

  all<T extends SqlRow = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.pooled.all<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.pooled.run(sql, params);
  }

  script(sql: string): Promise<void> {
    return this.pooled.script(sql);
  }

  runUrgent(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.urgent.run(sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options: { exclusive?: boolean } = {}): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      if (options.exclusive) await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const result = await fn(executorOf(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      // A connection that failed to roll back is destroyed, not returned to the pool.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.urgentPool.end()]);
  }
}

export interface PostgresStoreOptions {
  /** Pool errors on idle connections (the server went away); the pool replaces them. */
  onPoolError?: (error: Error) => void;
  max?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * `postgres://user:pass@host:5432/db?schema=cds` → a pool whose connections use `cds` as their
 * search_path (created by the first migration). Without `schema` the server's default applies.
 */
export function openPostgresStore(url: string, options: PostgresStoreOptions = {}): SqlStore {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new TypeError(`[store] CDS_DB_URL schema '${schema}' must match ${SCHEMA_NAME.source}`);
  }
  parsed.searchParams.delete('schema');
  const settings = {
    connectionString: parsed.toString(),
    // Fail fast when the server is unreachable: the audit queue retries, feedback answers 503.
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    query_timeout: 10_000,
    statement_timeout: 10_000,
    application_name: 'zoledronic-cds',
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    types,
  };
  const pool = new Pool({ ...settings, max: options.max ?? 10 });
  // The jti claim's own connections: feedback or audit transactions filling the main pool cannot
  // delay it past the replay check's deadline (which would refuse the call).
  // Its statements end on the server before the replay check's 1 s deadline, so a claim the caller
  // stopped waiting for never lands later (which would make the client's retry look like a replay).
  // Its connections stay open once made (no idle timeout), so a claim rarely waits for a connect.
  const urgentPool = new Pool({ ...settings, max: 2, idleTimeoutMillis: 0, connectionTimeoutMillis: 1000, statement_timeout: 800, query_timeout: 900 });
  for (const p of [pool, urgentPool]) p.on('error', (error) => options.onPoolError?.(error));
  return new SqlStore(new PostgresDatabase(pool, urgentPool, schema), POSTGRES_MIGRATIONS);
}
