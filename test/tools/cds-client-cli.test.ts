import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../tools/sandbox/processes';
import { buildTestApp, type TestApp } from '../support/app';
import { PROJECT_ROOT } from '../support/catalog';

/**
 * `npm run cds-client` as a user runs it: a trust file written by one run stays valid for the next
 * (persisted key, fixed issuer), and every failure is one line saying what to do.
 */
interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cdsClient(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'tools/cds-client/main.ts', ...args], { cwd: PROJECT_ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let issuer: string;
let deadFhir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cds-client-'));
  issuer = `http://127.0.0.1:${await freePort()}`;
  deadFhir = `http://127.0.0.1:${await freePort()}`;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('--help describes the options and exits 0', async () => {
  const run = await cdsClient(['--help']);
  expect(run.code).toBe(0);
  for (const option of ['--service', '--issuers-file', '--key-file', '--issuer', '--all']) expect(run.stdout).toContain(option);
});

test('an unknown option or an unreachable service is one line on stderr, exit 1', async () => {
  const unknown = await cdsClient(['--frobnicate']);
  expect(unknown).toMatchObject({ code: 1, stderr: "cds-client: Unknown option '--frobnicate' (see --help)\n" });
  const port = await freePort();
  const down = await cdsClient(['--service', `http://127.0.0.1:${port}`, '--issuer', issuer, '--key-file', join(dir, 'unused-key.json')]);
  expect(down.code).toBe(1);
  expect(down.stderr).toBe(`cds-client: cannot reach the CDS service at http://127.0.0.1:${port}/cds-services (ECONNREFUSED): is it running, and is the URL right?\n`);
});

describe('against a service with CDS_AUTH=required', () => {
  let t: TestApp;
  let base: string;
  const keyFile = () => join(dir, 'key.json');
  const issuersFile = () => join(dir, 'trusted-issuers.json');

  beforeAll(async () => {
    // First run: no service yet; it still creates the key and writes the trust file, then fails clearly.
    const first = await cdsClient(['--service', deadFhir, '--issuer', issuer, '--key-file', keyFile(), '--issuers-file', issuersFile()]);
    expect(first.code).toBe(1);
    expect(statSync(keyFile()).mode & 0o777).toBe(0o600);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // The service reads the issuer file once, at start — as in production.
    t = await buildTestApp({ now: Date.now, env: { CDS_AUTH: 'required', CDS_TRUSTED_ISSUERS: issuersFile(), PUBLIC_BASE_URL: base } });
    await t.app.listen({ port, host: '127.0.0.1' });
  }, 90_000);
  afterAll(() => t.close());

  test('the trust file pins the key and declares the issuer JWKS URL the tokens name in jku', () => {
    expect(JSON.parse(readFileSync(issuersFile(), 'utf8'))).toEqual([{ iss: issuer, jwks_uri: `${issuer}/.well-known/jwks.json`, jwks: { keys: [expect.objectContaining({ kty: 'EC', crv: 'P-384', alg: 'ES384' })] } }]);
  });

  test('a later run with the same key file is trusted: discovery answers 200', async () => {
    // The FHIR server is down, so the run stops after discovery, with one line naming it.
    const run = await cdsClient(['--service', base, '--fhir', deadFhir, '--issuer', issuer, '--key-file', keyFile(), '--hook', 'patient-view']);
    expect(run.stdout).toContain('discovery: HTTP 200, patient-view → zoledronic-acid-eligibility');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^cds-client: cannot reach the FHIR server or CDS service at .* \(ECONNREFUSED\): is it running, and is the URL right\?\n$/);
  }, 60_000);

  test('a client the service does not trust gets a one-line 401 explanation', async () => {
    const run = await cdsClient(['--service', base, '--issuer', issuer, '--key-file', join(dir, 'other-key.json')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `cds-client: ${base}/cds-services refused this client's JWT (HTTP 401; the service logs why at warn as authFailure): trust it with --issuers-file PATH and restart the service with CDS_AUTH=required CDS_TRUSTED_ISSUERS=PATH, and check that its PUBLIC_BASE_URL is --service\n`,
    );
    expect(t.logs.filter((l) => l.status === 401).pop()).toMatchObject({ level: 40, authFailure: 'unknown-kid' });
  }, 60_000);
});

test('an empty discovery is one line, exit 1', async () => {
  const empty: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"services": []}'));
  await new Promise<void>((resolve) => empty.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(empty.address() as AddressInfo).port}`;
    const run = await cdsClient(['--service', url, '--issuer', issuer, '--key-file', join(dir, 'key.json')]);
    expect(run).toMatchObject({ code: 1, stderr: `cds-client: ${url}/cds-services lists no service: is --service the CDS service's base URL?\n` });
  } finally {
    empty.closeAllConnections();
    await new Promise<void>((resolve) => empty.close(() => resolve()));
  }
}, 60_000);
