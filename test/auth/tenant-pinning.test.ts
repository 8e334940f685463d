import request from 'supertest';
import { buildTestApp, type TestApp } from '../support/app';
import { generateSigningKey, jwksOf, signToken, writeIssuerFile, type SigningKey } from '../support/jwt';

/**
 * Issue 14, Low 7: an issuer entry without `tenants` let a client put any tenant in its tokens,
 * and so mint fresh rate-limit identities at will. Now such an entry means "no tenant": a token
 * naming one is refused; `"tenants": "any"` opts in explicitly.
 */
const BASE = 'https://cds.hospital.test';
const PINNED = 'https://ehr-single.example';
const ANY = 'https://ehr-any-tenant.example';
let pinnedKey: SigningKey;
let anyKey: SigningKey;
let t: TestApp;

beforeAll(async () => {
  [pinnedKey, anyKey] = await Promise.all([generateSigningKey('ES384'), generateSigningKey('ES384')]);
  t = await buildTestApp({
    env: {
      CDS_AUTH: 'required',
      PUBLIC_BASE_URL: BASE,
      CDS_RATE_LIMIT_MAX: '2',
      CDS_TRUSTED_ISSUERS: writeIssuerFile([
        { iss: PINNED, jwks: jwksOf(pinnedKey) },
        { iss: ANY, jwks: jwksOf(anyKey), tenants: 'any' },
      ]),
    },
  });
});
afterAll(() => t.close());

async function discover(key: SigningKey, iss: string, tenant?: string): Promise<number> {
  const token = await signToken(key, iss, `${BASE}/cds-services`, tenant ? { claims: { tenant } } : {});
  return (await request(t.app.server).get('/cds-services').set('authorization', `Bearer ${token}`)).status;
}

test('an issuer without "tenants": a token naming a tenant is refused (401, tenant-not-allowed)', async () => {
  expect(await discover(pinnedKey, PINNED, 'hospital-a')).toBe(401);
  const line = t.logs.filter((l) => l.msg === 'request completed').pop();
  expect(line).toMatchObject({ status: 401, authFailure: 'tenant-not-allowed' });
});

test('the attack: fresh tenants cannot escape the rate limit; the pinned issuer is one client', async () => {
  expect([await discover(pinnedKey, PINNED), await discover(pinnedKey, PINNED), await discover(pinnedKey, PINNED)]).toEqual([200, 200, 429]);
  for (const tenant of ['t1', 't2', 't3']) expect(await discover(pinnedKey, PINNED, tenant)).toBe(401);
});

test('"tenants": "any" accepts any tenant, explicitly', async () => {
  expect(await discover(anyKey, ANY, 'north')).toBe(200);
  expect(await discover(anyKey, ANY)).toBe(200);
});

test('a tenant or jti with a NUL byte is refused as invalid-claim (401), never left to fail the store (503)', async () => {
  const withNulTenant = await signToken(anyKey, ANY, `${BASE}/cds-services`, { claims: { tenant: 'north\u0000' } });
  const withNulJti = await signToken(anyKey, ANY, `${BASE}/cds-services`, { claims: { jti: 'abc\u0000def' } });
  for (const token of [withNulTenant, withNulJti]) {
    expect((await request(t.app.server).get('/cds-services').set('authorization', `Bearer ${token}`)).status).toBe(401);
    expect(t.logs.filter((l) => l.msg === 'request completed').pop()).toMatchObject({ authFailure: 'invalid-claim' });
  }
});
