import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from './migrations/sqlite';
import type { SqlDatabase, SqlExecutor, SqlRow, SqlValue } from './sql';
import { SqlStore } from './sql-store';

type Bindable = string | number | null;
const bind = (params: readonly SqlValue[]): Bindable[] => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));

/** SQLITE_BUSY and its variants: another process (a sibling worker, the purge CLI) holds the write lock. */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED');
}

/**
 * How long better-sqlite3 may wait for a lock *synchronously*, on the event loop. Kept short: a
 * longer wait is done by retrying asynchronously (BUSY_RETRY_MS), so the process keeps serving
 * (/healthz, hook calls) while another process holds the lock.
 */
const BUSY_TIMEOUT_MS = 20;
/**
 * Total time a statement or transaction keeps retrying a held lock before failing. The urgent lane
 * (the jti claim) gives up before the replay check's own deadline (1 s), so a claim the caller has
 * stopped waiting for never lands later and turns the client's retry into a "replay".
 */
const BUSY_RETRY_MS = { normal: 10_000, urgent: 800 };

type Job = () => Promise<void>;

/**
 * better-sqlite3 behind the async SqlDatabase interface. better-sqlite3 is synchronous, so every
 * statement is short and runs on the event loop; one queue serialises access to the single
 * connection so a transaction's statements are never interleaved with another caller's. Urgent
 * work (the jti claim) goes ahead of everything queued. A lock held by another process is waited
 * for off the event loop: the job is retried after a pause, and other jobs run meanwhile (a busy
 * job holds no transaction: BEGIN IMMEDIATE or the lone statement is what failed).
 */
class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const;
  readonly migrationPrelude = undefined;
  private readonly urgentJobs: Job[] = [];
  private readonly normalJobs: Job[] = [];
  private running = false;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly direct: SqlExecutor;

  /** Stores opened on this database in this process (see openSqliteStore). */
  refs = 1;

  constructor(
    private readonly db: Database.Database,
    private readonly onClosed: () => void = () => undefined,
  ) {
    this.direct = {
      all: async <T extends SqlRow>(sql: string, params: readonly SqlValue[] = []) => this.statement(sql).all(...bind(params)) as T[],
      run: async (sql: string, params: readonly SqlValue[] = []) => this.statement(sql).run(...bind(params)).changes,
      script: async (sql: string) => {
        this.db.exec(sql);
      },
    };
  }

  /**
   * Prepared once per SQL text: the store issues a handful of fixed statements (the jti claim runs on
   * every authenticated call), and compiling SQL each time cost more than running it. Bounded, as
   * the feedback update's IN (…) list varies in length.
   */
  private statement(sql: string): Database.Statement {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      prepared = this.db.prepare(sql);
      if (this.statements.size >= 200) this.statements.clear();
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  /** Runs `fn` alone on the connection, in queue order (urgent first); retries it while another process holds the lock. */
  private async serial<T>(fn: () => Promise<T>, lane: 'normal' | 'urgent' = 'normal'): Promise<T> {
    const giveUpAt = Date.now() + BUSY_RETRY_MS[lane];
    for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
      try {
        return await this.enqueue(fn, lane);
      } catch (error) {
        if (!isBusy(error) || Date.now() + pause > giveUpAt || !this.db.open) throw error;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  private enqueue<T>(fn: () => Promise<T>, lane: 'normal' | 'urgent'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      (lane === 'urgent' ? this.urgentJobs : this.normalJobs).push(() => fn().then(resolve, reject));
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let job = this.urgentJobs.shift() ?? this.normalJobs.shift(); job; job = this.urgentJobs.shift() ?? this.normalJobs.shift()) await job();
    } finally {
      this.running = false;
    }
  }

  all<T extends SqlRow = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.serial(() => this.direct.all<T>(sql, params));
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.serial(() => this.direct.run(sql, params));
  }

  script(sql: string): Promise<void> {
    return this.serial(() => this.direct.script(sql));
  }

  runUrgent(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.serial(() => this.direct.run(sql, params), 'urgent');
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      // IMMEDIATE takes the write lock up front: while another process holds it this fails at once
      // (BUSY, retried by serial) instead of failing half-way through the transaction.
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.direct);
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    this.refs -= 1;
    if (this.refs > 0) return;
    this.onClosed();
    await this.serial(async () => {
      if (this.db.open) this.db.close();
    });
  }
}

/**
 * One connection per database file per process. better-sqlite3 waits for a lock synchronously
 * (busy_timeout), so a second connection in the same process waiting for the first one's
 * transaction would block the very thread that must finish it. Sharing the connection lets the
 * promise chain order them instead. Other processes (the CLI) use their own connection: each
 * transaction here completes within one turn of the event loop, so they never wait on us for long.
 */
const openFiles = new Map<string, SqliteDatabase>();

/** `sqlite:./data/cds.db` → ./data/cds.db; `sqlite::memory:` → an in-memory database (tests). */
function sqlitePathOf(url: string): string {
  const path = url.replace(/^sqlite:(\/\/)?/, '');
  if (path.length === 0) throw new TypeError(`[store] CDS_DB_URL '${url}' names no SQLite file`);
  return path;
}

/**
 * Opens (creating the file and its directory) the embedded store. WAL mode: readers (the report
 * CLI) never block the service's writes. synchronous=NORMAL: safe against process crashes, and a
 * commit does not fsync on the event loop; use PostgreSQL where power-loss durability matters.
 */
export function openSqliteStore(url: string): SqlStore {
  const path = sqlitePathOf(url);
  const memory = path === ':memory:';
  const key = memory ? undefined : resolve(path);
  const shared = key ? openFiles.get(key) : undefined;
  if (shared) {
    shared.refs += 1;
    return new SqlStore(shared, SQLITE_MIGRATIONS);
  }
  if (!memory) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  // Another process (npm run purge, a sibling CDS_WORKERS worker) may hold the write lock: wait a
  // little synchronously, longer by retrying off the event loop (SqliteDatabase.serial). Set first:
  // switching to WAL takes a lock too.
  // Opening happens once, before serving, so a longer synchronous wait is harmless there.
  db.pragma('busy_timeout = 5000');
  if (!memory) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const database = new SqliteDatabase(db, () => {
    if (key) openFiles.delete(key);
  });
  if (key) openFiles.set(key, database);
  return new SqlStore(database, SQLITE_MIGRATIONS);
}
