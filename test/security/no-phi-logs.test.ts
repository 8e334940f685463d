import request from 'supertest';
import { buildTestApp, postHook } from '../support/app';
import { chartOf } from '../support/fixtures';
import { startFhirServer } from '../support/fhir-server';
import { generateSigningKey, jwksOf, signToken, writeIssuerFile } from '../support/jwt';
import { ELIGIBILITY, patientViewRequest, prefetchFor } from '../support/requests';

/**
 * Error paths write logs too: a bug (500), a refused token (401), throttling (429), an unreachable
 * FHIR server (412). None of them may carry PHI from the request or the chart, nor any token.
 */
const PATIENT = 'pt-candidate';
const chart = chartOf('candidate-postmenopausal');
const PHI = [PATIENT, 'Lindqvist', 'Maren', 'MRN-100234', '1960-03-14', 'Springfield'];
const FHIR_TOKEN = 'fhir-access-token-7d1e';

function expectNoPhi(raw: string[], extra: string[] = []) {
  const logs = raw.join('');
  expect(logs.length).toBeGreaterThan(0);
  for (const value of [...PHI, FHIR_TOKEN, ...extra]) expect(logs).not.toContain(value);
}

test('a bug whose message quotes patient data: 500, logged as error class and stack frames only', async () => {
  const t = await buildTestApp({
    uuid: () => {
      throw new TypeError(`Unexpected token in "${PATIENT} Lindqvist, Maren"`);
    },
  });
  try {
    const response = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, prefetch: prefetchFor(ELIGIBILITY, chart, PATIENT) }));
    expect(response.status).toBe(500);
    expect(JSON.stringify(response.body)).not.toContain('Lindqvist');
    const bug = t.logs.find((l) => l.msg === 'unhandled error') as { bug: { name: string; frames: string } };
    expect(bug.bug.name).toBe('TypeError');
    expect(bug.bug.frames).toMatch(/^\s+at /);
    expectNoPhi(t.rawLogs);
  } finally {
    await t.close();
  }
});

test('auth refusals, throttling and FHIR failures log reasons and ids, never the body, the chart or a token', async () => {
  const key = await generateSigningKey('ES384');
  const base = 'https://cds.hospital.test';
  const t = await buildTestApp({
    env: {
      CDS_AUTH: 'required',
      PUBLIC_BASE_URL: base,
      CDS_RATE_LIMIT_MAX: '3',
      // The hanging /Condition query ends at this real deadline; 2 s leaves the other queries ample time under load.
      CDS_FHIR_TIMEOUT_MS: '2000',
      LOG_LEVEL: 'trace',
      CDS_TRUSTED_ISSUERS: writeIssuerFile([{ iss: 'https://ehr.example', jwks: jwksOf(key) }]),
    },
  });
  const fhir = await startFhirServer(chart, { handle: (path) => path.startsWith('/Condition') });
  const tokens: string[] = [];
  const call = async (authorization: string | undefined, body: object) => {
    let req = request(t.app.server).post(`/cds-services/${ELIGIBILITY}`).set('content-type', 'application/json');
    if (authorization) req = req.set('authorization', authorization);
    return req.send(body);
  };
  const token = async () => {
    const value = await signToken(key, 'https://ehr.example', `${base}/cds-services/${ELIGIBILITY}`);
    tokens.push(value);
    return `Bearer ${value}`;
  };
  try {
    const full = patientViewRequest({ patientId: PATIENT, prefetch: prefetchFor(ELIGIBILITY, chart, PATIENT) });
    const viaFhir = patientViewRequest({ patientId: PATIENT, fhirServer: fhir.url, accessToken: FHIR_TOKEN });
    expect((await call(undefined, full)).status).toBe(401);
    expect((await call('Bearer not.a.token', full)).status).toBe(401);
    expect((await call(await token(), full)).status).toBe(200);
    expect((await call(await token(), viaFhir)).status).toBe(412);
    expect((await call(await token(), { ...full, hookInstance: 'not-a-uuid' })).status).toBe(400);
    expect((await call(await token(), full)).status).toBe(429);
    const statuses = t.logs.filter((l) => l.msg === 'request completed').map((l) => [l.status, l.authFailure ?? l.errorCode ?? null]);
    expect(statuses).toEqual([
      [401, 'missing-token'],
      [401, 'malformed'],
      [200, null],
      [412, 'CDS_PREFETCH_UNAVAILABLE'],
      [400, 'CDS_REQUEST_INVALID'],
      [429, 'CDS_RATE_LIMITED'],
    ]);
    expectNoPhi(t.rawLogs, tokens.map((v) => v.split('.')[2]!));
  } finally {
    await t.close();
    await fhir.close();
  }
});
