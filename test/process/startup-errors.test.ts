import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { buildTestApp } from '../support/app';
import { PROJECT_ROOT } from '../support/catalog';
import { POSTGRES_URL } from '../support/postgres';

/** Every start-up failure names the variable to fix (here CDS_DB_URL), without its credentials. */

/** Starts `src/server.ts` with only `env` (plus PATH and HOME) and waits for it to exit (killed after 30 s). */
async function startServerUntilExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(PROJECT_ROOT, 'src/server.ts')], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += String(chunk)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
  clearTimeout(killer);
  return { code, stderr };
}

describe('a store that cannot be opened stops start-up naming CDS_DB_URL', () => {
  test('an SQLite path that cannot be created', async () => {
    // /etc/hostname is a file, so no directory can be made under it (true even for root).
    await expect(buildTestApp({ env: { CDS_DB_URL: 'sqlite:/etc/hostname/cds.db' } })).rejects.toThrow(
      /^\[store\] CDS_DB_URL=sqlite:\/etc\/hostname\/cds\.db: cannot open the store: E[A-Z]+: /,
    );
  });

  const withPostgres = POSTGRES_URL ? test : test.skip;
  withPostgres('PostgreSQL TLS that cannot be established; the password is not repeated', async () => {
    const url = new URL(POSTGRES_URL!);
    url.password = 'secret-password';
    // verify-full fails both where the server offers no TLS and where it has Debian's self-signed
    // certificate, which no CA here vouches for.
    url.searchParams.set('sslmode', 'verify-full');
    const error = await buildTestApp({ env: { CDS_DB_URL: url.toString() } }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeDefined();
    expect(error!.message).toMatch(/^\[store\] CDS_DB_URL=postgres:\/\/[^@]+\/\S+: cannot prepare the store: .*(SSL|certificate).*\(TLS to PostgreSQL: check sslmode in CDS_DB_URL and the CA/i);
    expect(error!.message).not.toContain('secret-password');
  });

  test('the process prints it as one line on stderr and exits 1', async () => {
    const { code, stderr } = await startServerUntilExit({ PORT: '0', CDS_DB_URL: 'sqlite:/etc/hostname/cds.db', LOG_LEVEL: 'warn' });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n').pop()).toMatch(/^\[store\] CDS_DB_URL=sqlite:\/etc\/hostname\/cds\.db: cannot open the store: E[A-Z]+: /);
  }, 40_000);

  test('a busy PORT is named, with what to do', async () => {
    const busy = createServer();
    await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done));
    const port = (busy.address() as { port: number }).port;
    try {
      const { code, stderr } = await startServerUntilExit({ PORT: String(port), HOST: '127.0.0.1', CDS_DB_URL: 'sqlite::memory:', LOG_LEVEL: 'warn' });
      expect(code).toBe(1);
      expect(stderr.trim().split('\n').pop()).toBe(`[config] PORT=${port} HOST=127.0.0.1: cannot listen (EADDRINUSE): the port is in use; set PORT to a free port`);
    } finally {
      await new Promise<void>((done) => busy.close(() => done()));
    }
  }, 40_000);
});
