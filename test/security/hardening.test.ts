import request from 'supertest';
import { buildTestApp, postHook, ruleIdsOf, type TestApp } from '../support/app';
import { chartOf } from '../support/fixtures';
import { startFhirServer } from '../support/fhir-server';
import { generateSigningKey, jwksOf, signToken, writeIssuerFile, type SigningKey } from '../support/jwt';
import { ELIGIBILITY, patientViewRequest, prefetchFor } from '../support/requests';

const PATIENT = 'pt-candidate';
const chart = chartOf('candidate-postmenopausal');
const SANDBOX = 'https://sandbox.cds-hooks.org';

describe('security headers (helmet) on a JSON API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  test('discovery, hook answers and errors carry them; JSON and CORS are unaffected', async () => {
    const discovery = await request(t.app.server).get('/cds-services').set('origin', SANDBOX);
    const hook = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, prefetch: prefetchFor(ELIGIBILITY, chart, PATIENT) }));
    const error = await postHook(t.app, ELIGIBILITY, { hook: 'patient-view' });
    for (const response of [discovery, hook, error]) {
      expect(response.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none';frame-ancestors 'none'",
        'strict-transport-security': expect.stringMatching(/^max-age=\d+/),
        'cross-origin-resource-policy': 'cross-origin',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      });
    }
    expect(discovery.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(discovery.headers['access-control-allow-origin']).toBe('*');
    expect(discovery.body.services.length).toBeGreaterThan(0);
    expect(hook.status).toBe(200);
    expect(ruleIdsOf(hook.body.cards)).toEqual(['PV-RECOMMEND', 'PV-CALCIUM-VITD']);
    expect(error.status).toBe(400);
    expect(error.headers['content-type']).toMatch(/^application\/fhir\+json/);
  });
});

describe('per-client rate limit', () => {
  test('without auth, per address: the call over the limit is a 429 OperationOutcome with Retry-After; health stays open', async () => {
    const t = await buildTestApp({ env: { CDS_RATE_LIMIT_MAX: '3', CDS_RATE_LIMIT_WINDOW_MS: '60000' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await request(t.app.server).get('/cds-services')).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = await request(t.app.server).get('/cds-services').set('origin', SANDBOX);
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toMatch(/^\d+$/);
      expect(limited.headers['access-control-allow-origin']).toBe('*');
      expect(limited.body.resourceType).toBe('OperationOutcome');
      expect(limited.body.issue[0]).toMatchObject({ code: 'throttled', details: { coding: [{ code: 'CDS_RATE_LIMITED' }] } });
      // Hook calls count against the same client.
      expect((await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT }))).status).toBe(429);
      for (let i = 0; i < 10; i += 1) {
        expect((await request(t.app.server).get('/healthz')).status).toBe(200);
        expect((await request(t.app.server).get('/readyz')).status).toBe(200);
      }
      const line = t.logs.filter((l) => l.msg === 'request completed' && l.status === 429).pop();
      expect(line).toMatchObject({ errorCode: 'CDS_RATE_LIMITED' });
    } finally {
      await t.close();
    }
  });

  test('with auth, per verified EHR: one issuer (or tenant) over its limit does not throttle another', async () => {
    const base = 'https://cds.hospital.test';
    const [a, b]: SigningKey[] = await Promise.all([generateSigningKey('ES384'), generateSigningKey('RS384')]);
    const t = await buildTestApp({
      env: {
        CDS_AUTH: 'required',
        PUBLIC_BASE_URL: base,
        CDS_RATE_LIMIT_MAX: '2',
        CDS_TRUSTED_ISSUERS: writeIssuerFile([
          { iss: 'https://ehr-a.example', jwks: jwksOf(a), tenants: ['north', 'south'] },
          { iss: 'https://ehr-b.example', jwks: jwksOf(b) },
        ]),
      },
    });
    const discover = async (key: SigningKey, iss: string, tenant?: string) => {
      const token = await signToken(key, iss, `${base}/cds-services`, tenant ? { claims: { tenant } } : {});
      return (await request(t.app.server).get('/cds-services').set('authorization', `Bearer ${token}`)).status;
    };
    try {
      expect([await discover(a, 'https://ehr-a.example', 'north'), await discover(a, 'https://ehr-a.example', 'north'), await discover(a, 'https://ehr-a.example', 'north')]).toEqual([200, 200, 429]);
      expect(await discover(a, 'https://ehr-a.example', 'south')).toBe(200);
      expect(await discover(b, 'https://ehr-b.example')).toBe(200);
      // Refused tokens are answered 401 by auth before they could count against anyone.
      expect((await request(t.app.server).get('/cds-services')).status).toBe(401);
    } finally {
      await t.close();
    }
  });
});

describe('fhirServer allow-list (CDS_FHIR_SERVER_ALLOWLIST)', () => {
  test('a listed FHIR server is used; any other is refused with 400 before a single request goes to it', async () => {
    const trusted = await startFhirServer(chart);
    const rogue = await startFhirServer(chart);
    const t = await buildTestApp({ env: { CDS_FHIR_SERVER_ALLOWLIST: `https://fhir.hospital.test, ${trusted.url}` } });
    try {
      const ok = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer: `${trusted.url}/` }));
      expect(ok.status).toBe(200);
      expect(ruleIdsOf(ok.body.cards)).toEqual(['PV-RECOMMEND', 'PV-CALCIUM-VITD']);

      const refused = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer: rogue.url, accessToken: 'ehr-access-token' }));
      expect(refused.status).toBe(400);
      expect(refused.body.issue[0]).toMatchObject({ expression: ['fhirServer'], details: { coding: [{ code: 'CDS_FHIR_SERVER_NOT_ALLOWED' }] } });
      expect(rogue.requests).toHaveLength(0);

      // Same host, other port or scheme: a different origin.
      const otherPort = trusted.url.replace(/:(\d+)$/, (_m, port: string) => `:${Number(port) + 1}`);
      expect((await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer: otherPort }))).status).toBe(400);
      // A complete prefetch without fhirServer needs no FHIR server at all.
      expect((await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, prefetch: prefetchFor(ELIGIBILITY, chart, PATIENT) }))).status).toBe(200);
    } finally {
      await t.close();
      await trusted.close();
      await rogue.close();
    }
  });
});
