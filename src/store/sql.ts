/**
 * The little a repository needs from a SQL database. Both adapters implement it, so every query and
 * every rule of the repository (src/store/sql-store.ts) is written once and tested against both.
 * Statements use `?` placeholders; the PostgreSQL adapter numbers them.
 */
export type SqlValue = string | number | boolean | null;
export type SqlRow = Record<string, unknown>;

export interface SqlExecutor {
  /** The rows a statement returns. */
  all<T extends SqlRow = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement; resolves with the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Several statements without parameters (migrations). */
  script(sql: string): Promise<void>;
}

export interface SqlDatabase extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs `fn` in one transaction; rolls back when it throws. `exclusive` serialises the transaction
   * against every other exclusive one on the same database (migrations from several replicas).
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: { exclusive?: boolean }): Promise<T>;
  /**
   * One statement that must not wait behind other work (the jti claim on every authenticated call):
   * its own connections on PostgreSQL, ahead of every queued statement on SQLite.
   */
  runUrgent(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Statements run before the migrations table is created (PostgreSQL: CREATE SCHEMA). */
  readonly migrationPrelude: string | undefined;
  close(): Promise<void>;
}

/** One numbered, forward-only migration. Versions are never reused or edited once released. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}
