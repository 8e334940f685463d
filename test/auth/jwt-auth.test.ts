import { SignJWT } from 'jose';
import request from 'supertest';
import { recordCards } from '../support/card-invariants';
import { buildTestApp, ruleIdsOf, type TestApp } from '../support/app';
import { chartOf } from '../support/fixtures';
import {
  b64url,
  generateSigningKey,
  jwksOf,
  NOW_SECONDS,
  signToken,
  startJwksServer,
  writeIssuerFile,
  type JwksServer,
  type SigningKey,
} from '../support/jwt';
import { ELIGIBILITY, patientViewRequest, prefetchFor } from '../support/requests';

/**
 * CDS Hooks 2.0 §Trusting CDS Clients, through the real HTTP stack: real keys generated here, one
 * issuer with its keys inline (ES384), one with a JWK Set served over real HTTP (RS384).
 */
const BASE = 'https://cds.hospital.test';
const DISCOVERY = '/cds-services';
const HOOK = `/cds-services/${ELIGIBILITY}`;
const FEEDBACK = `/cds-services/${ELIGIBILITY}/feedback`;
const ISS_INLINE = 'https://ehr-inline.example.org/fhir';
const ISS_REMOTE = 'https://ehr-remote.example.org';
const ISS_TENANTS = 'https://ehr-multi-tenant.example.org';
const ISS_DOWN = 'https://ehr-jwks-down.example.org';
const PATIENT = 'pt-candidate';
const chart = chartOf('candidate-postmenopausal');

let es: SigningKey;
let rs: SigningKey;
let tenantKey: SigningKey;
let jwks: JwksServer;
let downJwks: JwksServer;
let t: TestApp;
/** Every token a test sent: none may ever appear in a log line. */
const tokensSent: string[] = [];

function issuerEntries() {
  return [
    { iss: ISS_INLINE, jwks: jwksOf(es) },
    { iss: ISS_REMOTE, jwks_uri: jwks.url },
    { iss: ISS_TENANTS, jwks: jwksOf(tenantKey), tenants: ['hospital-a', 'hospital-b'] },
    { iss: ISS_DOWN, jwks_uri: downJwks.url },
  ];
}

beforeAll(async () => {
  [es, rs, tenantKey] = await Promise.all([generateSigningKey('ES384'), generateSigningKey('RS384'), generateSigningKey('ES384')]);
  jwks = await startJwksServer(jwksOf(rs));
  downJwks = await startJwksServer(jwksOf(rs));
  downJwks.setMode('error');
  t = await buildTestApp({
    env: {
      CDS_AUTH: 'required',
      CDS_TRUSTED_ISSUERS: writeIssuerFile(issuerEntries()),
      PUBLIC_BASE_URL: BASE,
      CDS_JWKS_COOLDOWN_MS: '60000',
      // A real deadline for the local JWK Set servers: generous, so a loaded machine never trips it.
      CDS_JWKS_TIMEOUT_MS: '2000',
    },
  });
});
afterAll(async () => {
  await t.close();
  await jwks.close();
  await downJwks.close();
});

async function call(method: 'get' | 'post', path: string, authorization?: string, body?: object, app = t) {
  let req = request(app.app.server)[method](path);
  if (authorization !== undefined) {
    req = req.set('authorization', authorization);
    tokensSent.push(authorization.replace(/^\S+\s+/, ''));
  }
  if (body) req = req.set('content-type', 'application/json').send(body);
  const response = await req;
  if (response.status === 200 && Array.isArray(response.body?.cards)) recordCards(response.body.cards);
  return response;
}

const bearer = (token: string) => `Bearer ${token}`;
const hookBody = () => patientViewRequest({ patientId: PATIENT, prefetch: prefetchFor(ELIGIBILITY, chart, PATIENT) });

function lastRequestLine(app = t) {
  const lines = app.logs.filter((l) => l.msg === 'request completed');
  return lines[lines.length - 1]!;
}

describe('tokens the service accepts', () => {
  test('ES384 with inline keys: discovery answers', async () => {
    const response = await call('get', DISCOVERY, bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY)));
    expect(response.status).toBe(200);
    expect(response.body.services.map((s: { id: string }) => s.id)).toContain(ELIGIBILITY);
    expect(lastRequestLine()).toMatchObject({ status: 200, issuer: ISS_INLINE });
  });

  test('RS384 with a JWK Set fetched over HTTP: the hook call gets its cards', async () => {
    const response = await call('post', HOOK, bearer(await signToken(rs, ISS_REMOTE, BASE + HOOK)), hookBody());
    expect(response.status).toBe(200);
    expect(ruleIdsOf(response.body.cards)).toEqual(['PV-RECOMMEND', 'PV-CALCIUM-VITD']);
    expect(jwks.fetches).toBeGreaterThanOrEqual(1);
  });

  test('aud as an array containing the endpoint; jku equal to the allow-listed jwks_uri', async () => {
    const token = await signToken(rs, ISS_REMOTE, ['https://other.example/x', BASE + HOOK], { header: { jku: jwks.url } });
    expect((await call('post', HOOK, bearer(token), hookBody())).status).toBe(200);
  });

  test('Epic-style extras (sub, nbf five minutes back) are tolerated', async () => {
    const token = await signToken(rs, ISS_REMOTE, BASE + DISCOVERY, { claims: { sub: 'epic-client-id', nbf: NOW_SECONDS - 300 } });
    expect((await call('get', DISCOVERY, bearer(token))).status).toBe(200);
  });

  test('a token expired 30 s ago still passes within the 60 s clock skew', async () => {
    const token = await signToken(es, ISS_INLINE, BASE + DISCOVERY, { claims: { iat: NOW_SECONDS - 100, exp: NOW_SECONDS - 30 } });
    expect((await call('get', DISCOVERY, bearer(token))).status).toBe(200);
  });

  test('an allow-listed tenant passes and is logged as the client', async () => {
    const token = await signToken(tenantKey, ISS_TENANTS, BASE + DISCOVERY, { claims: { tenant: 'hospital-b' } });
    expect((await call('get', DISCOVERY, bearer(token))).status).toBe(200);
    expect(lastRequestLine()).toMatchObject({ issuer: ISS_TENANTS, tenant: 'hospital-b' });
  });

  test('feedback calls are checked too: a token for the feedback URL gets past auth to the feedback validation', async () => {
    // An empty batch is refused by the feedback route's own validation (400), which only runs once auth passed.
    const ok = await call('post', FEEDBACK, bearer(await signToken(es, ISS_INLINE, BASE + FEEDBACK)), { feedback: [] });
    expect(ok.status).toBe(400);
    expect(ok.body.issue[0].details.coding[0].code).toBe('CDS_REQUEST_INVALID');
    const refused = await call('post', FEEDBACK, undefined, { feedback: [] });
    expect(refused.status).toBe(401);
  });

  test('health, readiness and CORS preflight need no token', async () => {
    expect((await request(t.app.server).get('/healthz')).status).toBe(200);
    expect((await request(t.app.server).get('/readyz')).status).toBe(200);
    const preflight = await request(t.app.server)
      .options(HOOK)
      .set('origin', 'https://sandbox.cds-hooks.org')
      .set('access-control-request-method', 'POST')
      .set('access-control-request-headers', 'authorization,content-type');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toMatch(/Authorization/);
  });

  test('a shared replay cache that cannot answer: 503, never a token accepted unchecked', async () => {
    const app = await buildTestApp({
      env: { CDS_AUTH: 'required', CDS_TRUSTED_ISSUERS: writeIssuerFile([{ iss: ISS_INLINE, jwks: jwksOf(es) }]), PUBLIC_BASE_URL: BASE },
      replayCache: { seen: async () => Promise.reject(new Error('database unreachable')) },
    });
    try {
      const response = await call('get', DISCOVERY, bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY)), undefined, app);
      expect(response.status).toBe(503);
      expect(response.body.issue[0].details.coding[0].code).toBe('CDS_UNAVAILABLE');
    } finally {
      await app.close();
    }
  });

  test('the same token sent twice at once: exactly one call passes (replay check is atomic)', async () => {
    const token = bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY));
    const statuses = (await Promise.all([call('get', DISCOVERY, token), call('get', DISCOVERY, token), call('get', DISCOVERY, token)])).map((r) => r.status);
    expect(statuses.sort()).toEqual([200, 401, 401]);
  });
});

describe('every bad token is refused with the same bare 401', () => {
  type Case = [name: string, make: () => Promise<{ path: string; authorization?: string; method?: 'get' | 'post' }>, reason: string];
  const disc = (authorization?: string) => ({ path: DISCOVERY, ...(authorization === undefined ? {} : { authorization }) });
  const swapPayload = (token: string, claims: Record<string, unknown>) => {
    const [h, , s] = token.split('.');
    return `${h}.${b64url(claims)}.${s}`;
  };

  const cases: Case[] = [
    ['no Authorization header', async () => disc(), 'missing-token'],
    ['Basic credentials instead of a bearer token', async () => disc(`Basic ${Buffer.from('ehr:secret').toString('base64')}`), 'not-bearer'],
    ['a valid JWT behind the wrong scheme ("Token")', async () => disc(`Token ${await signToken(es, ISS_INLINE, BASE + DISCOVERY)}`), 'not-bearer'],
    ['a garbage string', async () => disc('Bearer this-is-not-a-jwt'), 'malformed'],
    ['malformed base64 in every part', async () => disc('Bearer %%%.@@@.!!!'), 'malformed'],
    ['header that is not JSON', async () => disc(`Bearer ${b64url('{alg:')}.${b64url({ iss: ISS_INLINE })}.sig`), 'malformed'],
    ['alg none (unsecured JWT)', async () => disc(`Bearer ${b64url({ alg: 'none', typ: 'JWT', kid: es.kid })}.${b64url({ iss: ISS_INLINE, aud: BASE + DISCOVERY, exp: NOW_SECONDS + 300, iat: NOW_SECONDS, jti: 'none-1' })}.`), 'alg-not-allowed'],
    [
      'HS256 signed with the public key as the HMAC secret',
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(es.publicJwk));
        const token = await new SignJWT({ iss: ISS_INLINE, aud: BASE + DISCOVERY, exp: NOW_SECONDS + 300, iat: NOW_SECONDS, jti: 'hs-1' })
          .setProtectedHeader({ alg: 'HS256', kid: es.kid, typ: 'JWT' })
          .sign(secret);
        return disc(bearer(token));
      },
      'alg-not-allowed',
    ],
    ['no kid in the header', async () => disc(bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY, { header: { kid: undefined } }))), 'missing-kid'],
    ['typ is not JWT (an access token passed off as a CDS JWT)', async () => disc(bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY, { header: { typ: 'at+jwt' } }))), 'wrong-typ'],
    ['issuer not on the allow-list', async () => disc(bearer(await signToken(es, 'https://evil.example.org', BASE + DISCOVERY))), 'unknown-issuer'],
    ['jku pointing at an unlisted JWK Set', async () => disc(bearer(await signToken(rs, ISS_REMOTE, BASE + DISCOVERY, { header: { jku: 'https://evil.example.org/jwks.json' } }))), 'jku-not-allowed'],
    ['jku on an issuer whose keys are pinned inline', async () => disc(bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY, { header: { jku: jwks.url } }))), 'jku-not-allowed'],
    ['kid unknown to the inline key set', async () => disc(bearer(await signToken({ ...es, kid: 'no-such-kid' }, ISS_INLINE, BASE + DISCOVERY))), 'unknown-kid'],
    ['kid unknown to the remote key set (refresh is cooling down)', async () => disc(bearer(await signToken({ ...rs, kid: 'rotated-away' }, ISS_REMOTE, BASE + DISCOVERY))), 'unknown-kid'],
    ['another issuer\'s key claiming to be this issuer', async () => disc(bearer(await signToken(rs, ISS_INLINE, BASE + DISCOVERY))), 'unknown-kid'],
    [
      'signed by a different key that reuses the trusted kid',
      async () => {
        const impostor = await generateSigningKey('ES384', es.kid);
        return disc(bearer(await signToken(impostor, ISS_INLINE, BASE + DISCOVERY)));
      },
      'bad-signature',
    ],
    [
      'payload tampered after signing (aud swapped)',
      async () => {
        const token = await signToken(es, ISS_INLINE, BASE + HOOK);
        return disc(bearer(swapPayload(token, { iss: ISS_INLINE, aud: BASE + DISCOVERY, exp: NOW_SECONDS + 300, iat: NOW_SECONDS, jti: 'tampered-1' })));
      },
      'bad-signature',
    ],
    [
      'signature tampered',
      async () => {
        const token = await signToken(es, ISS_INLINE, BASE + DISCOVERY);
        const [h, p, s] = token.split('.');
        const flipped = (s![0] === 'A' ? 'B' : 'A') + s!.slice(1);
        return disc(bearer(`${h}.${p}.${flipped}`));
      },
      'bad-signature',
    ],
    ['signature stripped', async () => disc(bearer(`${(await signToken(es, ISS_INLINE, BASE + DISCOVERY)).split('.').slice(0, 2).join('.')}.`)), 'bad-signature'],
    ['expired two minutes ago (beyond the skew)', async () => disc(bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY, { claims: { iat: NOW_SECONDS - 400, exp: NOW_SECONDS - 120 } }))), 'expired'],
    ['issued in the future', async () => disc(bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY, { claims: { iat: NOW_SECONDS + 600, exp: NOW_SECONDS + 900 } }))), 'iat-in-future'],
    ['nbf in the future', async () => disc(bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY, { claims: { nbf: NOW_SECONDS + 600 } }))), 'not-yet-valid'],
    ['issued long ago with a far exp (older than the maximum token age)', async () => disc(bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY, { claims: { iat: NOW_SECONDS - 3000, exp: NOW_SECONDS + 86400 } }))), 'too-old'],
    ['exp is a string', async () => disc(bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY, { claims: { exp: String(NOW_SECONDS + 300) } }))), 'invalid-claim'],
    ['missing iss', async () => disc(bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY, { claims: { iss: undefined } }))), 'missing-claim'],
    ['missing aud', async () => disc(bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY, { claims: { aud: undefined } }))), 'missing-claim'],
    ['missing exp', async () => disc(bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY, { claims: { exp: undefined } }))), 'missing-claim'],
    ['missing iat', async () => disc(bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY, { claims: { iat: undefined } }))), 'missing-claim'],
    ['missing jti', async () => disc(bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY, { claims: { jti: undefined } }))), 'missing-claim'],
    ['aud of another service base', async () => disc(bearer(await signToken(es, ISS_INLINE, 'https://cds.elsewhere.test/cds-services'))), 'wrong-audience'],
    ['aud array without this endpoint', async () => disc(bearer(await signToken(es, ISS_INLINE, [BASE + HOOK, BASE + FEEDBACK]))), 'wrong-audience'],
    ['a discovery token used on a hook call', async () => ({ method: 'post', path: HOOK, authorization: bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY)) }), 'wrong-audience'],
    ['a hook token used on discovery', async () => disc(bearer(await signToken(es, ISS_INLINE, BASE + HOOK))), 'wrong-audience'],
    ['a hook token used on feedback', async () => ({ method: 'post', path: FEEDBACK, authorization: bearer(await signToken(es, ISS_INLINE, BASE + HOOK)) }), 'wrong-audience'],
    ['tenant not on the issuer\'s list', async () => disc(bearer(await signToken(tenantKey, ISS_TENANTS, BASE + DISCOVERY, { claims: { tenant: 'hospital-z' } }))), 'tenant-not-allowed'],
    ['no tenant where the issuer lists tenants', async () => disc(bearer(await signToken(tenantKey, ISS_TENANTS, BASE + DISCOVERY))), 'tenant-not-allowed'],
    ['the issuer\'s JWK Set server is down', async () => disc(bearer(await signToken(rs, ISS_DOWN, BASE + DISCOVERY))), 'jwks-unavailable'],
    [
      'a replayed token (same jti)',
      async () => {
        const token = bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY, { claims: { jti: 'replay-me' } }));
        expect((await call('get', DISCOVERY, token)).status).toBe(200);
        return disc(token);
      },
      'replayed',
    ],
    ['a huge token', async () => disc(`Bearer ${'a'.repeat(9000)}.${'b'.repeat(10)}.c`), 'malformed'],
  ];

  let canonical: { body: unknown; contentType: string } | undefined;

  test.each(cases)('%s', async (_name, make, reason) => {
    const { path, authorization, method } = await make();
    const response = await call(method ?? 'get', path, authorization, method === 'post' ? hookBody() : undefined);
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer');
    // No detail: the body is identical whatever the reason.
    canonical ??= { body: response.body, contentType: response.headers['content-type']! };
    expect(response.body).toEqual(canonical.body);
    expect(response.headers['content-type']).toBe(canonical.contentType);
    expect(JSON.stringify(response.body)).not.toContain(reason);
    // The reason is in the log line, for the operator.
    // At warn (pino level 40), so it reaches operators and `npm run sandbox`, which show warnings only.
    expect(lastRequestLine()).toMatchObject({ level: 40, status: 401, errorCode: 'CDS_UNAUTHORIZED', authFailure: reason });
  });

  test('the 401 body is a generic OperationOutcome, and a browser client can read it (CORS headers)', async () => {
    const response = await request(t.app.server).get(DISCOVERY).set('origin', 'https://sandbox.cds-hooks.org');
    expect(response.status).toBe(401);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.body).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'security',
          details: { coding: [{ system: 'https://zoledronic-cds.example.org/fhir/CodeSystem/error', code: 'CDS_UNAUTHORIZED' }], text: 'Authentication required' },
          diagnostics: 'Authentication required',
        },
      ],
    });
  });

  test('an unknown service id without a token is 401, not 404 (no service enumeration)', async () => {
    expect((await call('post', '/cds-services/no-such-service', undefined, {})).status).toBe(401);
  });

  test('after every refusal the service still answers, and no token ever reached the log', async () => {
    expect((await request(t.app.server).get('/healthz')).status).toBe(200);
    const good = await call('get', DISCOVERY, bearer(await signToken(es, ISS_INLINE, BASE + DISCOVERY)));
    expect(good.status).toBe(200);
    const logs = t.rawLogs.join('');
    expect(tokensSent.length).toBeGreaterThan(40);
    for (const token of tokensSent) {
      for (const part of token.split('.').filter((p) => p.length > 16)) expect(logs).not.toContain(part);
    }
    expect(logs).not.toContain('secret');
  });
});

describe('JWK Set caching, rotation and refresh limits', () => {
  test('a key set is fetched once and then served from cache', async () => {
    const before = jwks.fetches;
    for (let i = 0; i < 3; i += 1) expect((await call('get', DISCOVERY, bearer(await signToken(rs, ISS_REMOTE, BASE + DISCOVERY)))).status).toBe(200);
    expect(jwks.fetches).toBe(before);
  });

  test('unknown kids do not make the service hammer the JWK Set URL (refresh is rate limited)', async () => {
    const before = jwks.fetches;
    for (let i = 0; i < 5; i += 1) {
      const response = await call('get', DISCOVERY, bearer(await signToken({ ...rs, kid: `unknown-${i}` }, ISS_REMOTE, BASE + DISCOVERY)));
      expect(response.status).toBe(401);
    }
    expect(jwks.fetches).toBe(before);
  });

  test('key rotation: a token with a new kid triggers a refresh and passes; the retired key then fails', async () => {
    const rotating = await startJwksServer(jwksOf(rs));
    const app = await buildTestApp({
      env: { CDS_AUTH: 'required', CDS_TRUSTED_ISSUERS: writeIssuerFile([{ iss: ISS_REMOTE, jwks_uri: rotating.url }]), PUBLIC_BASE_URL: BASE, CDS_JWKS_COOLDOWN_MS: '0' },
    });
    try {
      expect((await call('get', DISCOVERY, bearer(await signToken(rs, ISS_REMOTE, BASE + DISCOVERY)), undefined, app)).status).toBe(200);
      expect(rotating.fetches).toBe(1);
      const next = await generateSigningKey('ES384');
      rotating.setKeys(jwksOf(next));
      expect((await call('get', DISCOVERY, bearer(await signToken(next, ISS_REMOTE, BASE + DISCOVERY)), undefined, app)).status).toBe(200);
      expect(rotating.fetches).toBe(2);
      // The old kid is no longer published: refused once the set is refreshed.
      expect((await call('get', DISCOVERY, bearer(await signToken(rs, ISS_REMOTE, BASE + DISCOVERY)), undefined, app)).status).toBe(401);
      expect(lastRequestLine(app)).toMatchObject({ authFailure: 'unknown-kid' });
    } finally {
      await app.close();
      await rotating.close();
    }
  });

  test.each(['hang', 'junk', 'error'] as const)('a JWK Set server that answers "%s" fails closed (401) and then recovers', async (mode) => {
    const flaky = await startJwksServer(jwksOf(rs));
    flaky.setMode(mode);
    const app = await buildTestApp({
      env: {
        CDS_AUTH: 'required',
        CDS_TRUSTED_ISSUERS: writeIssuerFile([{ iss: ISS_REMOTE, jwks_uri: flaky.url }]),
        PUBLIC_BASE_URL: BASE,
        CDS_JWKS_COOLDOWN_MS: '0',
        // "hang" ends at this real deadline; ≥ 2 s so "junk" and "error" are never cut short under load.
        CDS_JWKS_TIMEOUT_MS: '2000',
      },
    });
    try {
      const refused = await call('get', DISCOVERY, bearer(await signToken(rs, ISS_REMOTE, BASE + DISCOVERY)), undefined, app);
      expect(refused.status).toBe(401);
      expect(lastRequestLine(app)).toMatchObject({ authFailure: 'jwks-unavailable' });
      flaky.setMode('ok');
      expect((await call('get', DISCOVERY, bearer(await signToken(rs, ISS_REMOTE, BASE + DISCOVERY)), undefined, app)).status).toBe(200);
    } finally {
      await app.close();
      await flaky.close();
    }
  });
});
