import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import auditQueuePlugin from '../../src/plugins/audit-queue';
import authFromConfigPlugin from '../../src/plugins/auth-from-config';
import configPlugin from '../../src/plugins/config';
import retentionPlugin from '../../src/plugins/retention';
import { buildTestApp, postHook, testConfig } from '../support/app';
import { chartOf } from '../support/fixtures';
import { ELIGIBILITY, patientViewRequest, prefetchFor } from '../support/requests';

/** The plugins wire the app (src/plugins/, docs/architecture.md "Wiring: plugins"). */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cds-wiring-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('each plugin refuses to register before the plugins it depends on', async () => {
  const bare = Fastify();
  await expect(bare.register(auditQueuePlugin)).rejects.toThrow(/audit-queue/);
  const withConfig = Fastify();
  await withConfig.register(configPlugin, { config: testConfig() });
  await expect(withConfig.register(retentionPlugin, { now: Date.now })).rejects.toThrow(/retention/);
  const noReplayCache = Fastify();
  await noReplayCache.register(configPlugin, { config: testConfig() });
  await expect(noReplayCache.register(authFromConfigPlugin, { now: Date.now })).rejects.toThrow(/replay-cache/);
});

test('closing right after a hook call still writes its audit record: the queue drains before the store closes', async () => {
  const dbPath = join(dir, 'cds.db');
  const t = await buildTestApp({ env: { CDS_DB_URL: `sqlite:${dbPath}`, CDS_AUDIT_HMAC_KEY: 'wiring-test-hmac-key-0123456789abcdef' } });
  const response = await postHook(
    t.app,
    ELIGIBILITY,
    patientViewRequest({ patientId: 'pt-1', prefetch: prefetchFor(ELIGIBILITY, chartOf('candidate-postmenopausal'), 'pt-1') }),
  );
  expect(response.status).toBe(200);
  await t.close();
  const db = new Database(dbPath, { readonly: true });
  try {
    expect(db.prepare('SELECT COUNT(*) AS n FROM hook_calls').get()).toEqual({ n: 1 });
  } finally {
    db.close();
  }
});

test('a bad issuer file stops buildApp with the issuer error, after the store it opened is closed again', async () => {
  const dbPath = join(dir, 'cds.db');
  await expect(
    buildTestApp({
      env: {
        CDS_DB_URL: `sqlite:${dbPath}`,
        CDS_AUTH: 'required',
        CDS_TRUSTED_ISSUERS: '/nonexistent/issuers.json',
        PUBLIC_BASE_URL: 'https://cds.example.org',
      },
    }),
  ).rejects.toThrow('[auth] CDS_TRUSTED_ISSUERS: cannot read /nonexistent/issuers.json: ENOENT');
  // Closed again: SQLite removes its write-ahead log when the last connection closes.
  expect(existsSync(dbPath)).toBe(true);
  expect(existsSync(`${dbPath}-wal`)).toBe(false);
});
