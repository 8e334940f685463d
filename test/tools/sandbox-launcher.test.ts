import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { describeServiceWarning } from '../../tools/sandbox/service-log';
import { PROJECT_ROOT } from '../support/catalog';

/** `npm run sandbox`: a busy port is one clear error before any banner; the service's warnings are shown. */
describe('npm run sandbox', () => {
  let busy: Server;
  let busyPort: number;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  test('a busy port stops it before the banner, naming the variable to change', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/sandbox/start.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, SANDBOX_CDS_PORT: String(busyPort), SANDBOX_FHIR_PORT: '0', SANDBOX_EHR_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    clearTimeout(killer);
    expect(code).toBe(1);
    expect(stderr).toContain(`sandbox: port ${busyPort} on 127.0.0.1 is already in use: stop what holds it or set SANDBOX_CDS_PORT to a free port`);
    expect(stdout).not.toContain('sandbox is running');
  }, 40_000);

  test("the service's refused-JWT warning becomes one readable line; info lines stay hidden", () => {
    const refused = JSON.stringify({ level: 40, msg: 'request completed', method: 'GET', route: '/cds-services', status: 401, authFailure: 'wrong-audience', issuer: 'https://sandbox.cds-hooks.org' });
    expect(describeServiceWarning(refused)).toBe(
      'CDS service warning: request completed method=GET route=/cds-services status=401 authFailure=wrong-audience issuer=https://sandbox.cds-hooks.org (the JWT was refused; see "Trust and authentication" in README.md)',
    );
    expect(describeServiceWarning(JSON.stringify({ level: 30, msg: 'request completed', status: 200 }))).toBeUndefined();
    expect(describeServiceWarning(JSON.stringify({ level: 50, msg: 'unhandled error' }))).toBe('CDS service error: unhandled error');
  });
});
