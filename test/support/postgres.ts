import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { describeIfAvailable } from './prerequisites';

/**
 * PostgreSQL for tests: CDS_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test; .ci/run
 * starts a server and sets it). Each test file works in its own schema, dropped afterwards.
 */
export const POSTGRES_URL = process.env.CDS_TEST_POSTGRES_URL;

export const POSTGRES_SKIP_NOTE = 'skipped: set CDS_TEST_POSTGRES_URL=postgres://user@host:5432/db to run the PostgreSQL tests';

/** `describe` when a PostgreSQL server is configured; else skipped with the reason in its title, or failed when CI=true. */
export const describePostgres = (title: string, fn: () => void) =>
  describeIfAvailable(title, POSTGRES_URL ? undefined : 'CDS_TEST_POSTGRES_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)', fn);

export interface TestSchema {
  /** CDS_DB_URL for this schema. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, empty schema name (not created: the first migration creates it). */
export function testSchema(prefix: string): TestSchema {
  if (!POSTGRES_URL) throw new Error(POSTGRES_SKIP_NOTE);
  const name = `t_${prefix.replace(/[^a-z0-9_]/g, '_')}_${randomBytes(4).toString('hex')}`;
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('schema', name);
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
