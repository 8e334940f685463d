import { resolve } from 'node:path';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../support/app';
import { PROJECT_ROOT } from '../support/catalog';
import { generateSigningKey, jwksOf, signToken, startJwksServer, writeIssuerFile, type JwksServer, type SigningKey } from '../support/jwt';

/**
 * Issuers whose keys are pinned inline may still declare their JWK Set URL: a client that always sends
 * `jku` (the CDS Hooks sandbox sends https://sandbox.cds-hooks.org/.well-known/jwks.json) is accepted
 * when `jku` equals that declared URL — and the URL is never fetched.
 */
const BASE = 'http://localhost:8080';
const DISCOVERY = '/cds-services';
const ISS = 'https://ehr-pinned.example.org';
const SANDBOX_ISS = 'https://sandbox.cds-hooks.org';
const SANDBOX_JKU = 'https://sandbox.cds-hooks.org/.well-known/jwks.json';
const SANDBOX_KID = '44823f3d-0b01-4a6c-a80e-b9d3e8a7226f';

const lastRequestLine = (app: TestApp) => app.logs.filter((l) => l.msg === 'request completed').pop()!;

describe('pinned keys with a declared jwks_uri', () => {
  let key: SigningKey;
  let declared: JwksServer;
  let t: TestApp;
  beforeAll(async () => {
    key = await generateSigningKey('ES384');
    // A real server at the declared URL, so a fetch would be counted (and would fail: it serves errors).
    declared = await startJwksServer(jwksOf(key));
    declared.setMode('error');
    t = await buildTestApp({
      env: { CDS_AUTH: 'required', PUBLIC_BASE_URL: BASE, CDS_TRUSTED_ISSUERS: writeIssuerFile([{ iss: ISS, jwks_uri: declared.url, jwks: jwksOf(key) }]) },
    });
  });
  afterAll(async () => {
    await t.close();
    await declared.close();
  });

  test('a token whose jku equals the declared URL is verified with the pinned keys; nothing is fetched', async () => {
    const token = await signToken(key, ISS, BASE + DISCOVERY, { header: { jku: declared.url } });
    const response = await request(t.app.server).get(DISCOVERY).set('authorization', `Bearer ${token}`);
    expect(response.status).toBe(200);
    expect(declared.fetches).toBe(0);
  });

  test('a token without jku passes too', async () => {
    const token = await signToken(key, ISS, BASE + DISCOVERY);
    expect((await request(t.app.server).get(DISCOVERY).set('authorization', `Bearer ${token}`)).status).toBe(200);
  });

  test('a token naming any other jku is refused (jku-not-allowed), logged at warn', async () => {
    const token = await signToken(key, ISS, BASE + DISCOVERY, { header: { jku: 'https://evil.example.org/.well-known/jwks.json' } });
    expect((await request(t.app.server).get(DISCOVERY).set('authorization', `Bearer ${token}`)).status).toBe(401);
    expect(lastRequestLine(t)).toMatchObject({ level: 40, status: 401, authFailure: 'jku-not-allowed', issuer: ISS });
    expect(declared.fetches).toBe(0);
  });
});

describe('config/trusted-issuers.sandbox-dev.json works offline', () => {
  let t: TestApp;
  let fetches = 0;
  const realFetch = globalThis.fetch;
  beforeAll(async () => {
    // Any attempt to reach sandbox.cds-hooks.org would be counted here (and fail: no network in tests).
    globalThis.fetch = (async (...args: Parameters<typeof fetch>) => {
      fetches += 1;
      return realFetch(...args);
    }) as typeof fetch;
    t = await buildTestApp({
      env: { CDS_AUTH: 'required', PUBLIC_BASE_URL: BASE, CDS_TRUSTED_ISSUERS: resolve(PROJECT_ROOT, 'config/trusted-issuers.sandbox-dev.json') },
    });
  });
  afterAll(async () => {
    globalThis.fetch = realFetch;
    await t.close();
  });

  test("a sandbox-shaped token (its iss, jku and kid) reaches the signature check against the pinned key without a fetch", async () => {
    // We do not hold the sandbox's private key in this repository, so sign with another key under the
    // sandbox's kid: the only possible refusal left is the signature, which proves jku was accepted
    // and the pinned key was used.
    const impostor = await generateSigningKey('ES384', SANDBOX_KID);
    const token = await signToken(impostor, SANDBOX_ISS, BASE + DISCOVERY, { header: { jku: SANDBOX_JKU } });
    const response = await request(t.app.server).get(DISCOVERY).set('authorization', `Bearer ${token}`);
    expect(response.status).toBe(401);
    expect(lastRequestLine(t)).toMatchObject({ level: 40, authFailure: 'bad-signature', issuer: SANDBOX_ISS });
    expect(fetches).toBe(0);
  });
});
