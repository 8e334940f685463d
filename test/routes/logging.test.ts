import { buildTestApp, postHook, type TestApp } from '../support/app';
import { chartOf } from '../support/fixtures';
import { startFhirServer } from '../support/fhir-server';
import { ELIGIBILITY, patientViewRequest, prefetchFor } from '../support/requests';

const chart = chartOf('candidate-postmenopausal');
const SECRET = 'eyJhbGciOiJSUzI1NiJ9.secret-access-token.sig';

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp({ env: { LOG_LEVEL: 'trace' } });
});
afterEach(() => t.close());

test('one structured line per hook call: ids, counts and rule ids', async () => {
  const body = patientViewRequest({ patientId: 'pt-candidate', prefetch: prefetchFor(ELIGIBILITY, chart, 'pt-candidate'), hookInstance: '6f9619ff-8b86-4d01-b42d-00cf4fc964ff' });
  await postHook(t.app, ELIGIBILITY, body);
  const lines = t.logs.filter((l) => l.msg === 'request completed');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({
    route: '/cds-services/:id',
    status: 200,
    serviceId: ELIGIBILITY,
    hook: 'patient-view',
    hookInstance: '6f9619ff-8b86-4d01-b42d-00cf4fc964ff',
    cardCount: 2,
    ruleIds: ['PV-RECOMMEND', 'PV-CALCIUM-VITD'],
  });
  expect(typeof lines[0]!.durationMs).toBe('number');
});

test('no PHI and no token in any log line, whatever the path (success, FHIR fetch, 412, 400)', async () => {
  const fhir = await startFhirServer(chart);
  try {
    await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: 'pt-candidate', prefetch: prefetchFor(ELIGIBILITY, chart, 'pt-candidate') }));
    await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: 'pt-candidate', fhirServer: fhir.url, accessToken: SECRET }));
    await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: 'pt-candidate' }));
    await postHook(t.app, ELIGIBILITY, { ...patientViewRequest({ patientId: 'pt-candidate', fhirServer: fhir.url, accessToken: SECRET }), hookInstance: 'not-a-uuid' });
  } finally {
    await fhir.close();
  }
  const everything = t.rawLogs.join('');
  expect(everything.length).toBeGreaterThan(0);
  for (const forbidden of [SECRET, 'Lindqvist', 'Maren', 'MRN-100234', '1960-03-14', 'pt-candidate', 'Springfield']) {
    expect(everything).not.toContain(forbidden);
  }
});

test('pino redaction removes tokens even if code logs a request object by mistake', async () => {
  t.app.log.info({ fhirAuthorization: { access_token: SECRET }, headers: { authorization: `Bearer ${SECRET}` }, prefetch: { patient: { name: 'Lindqvist' } } }, 'careless');
  const line = t.logs.find((l) => l.msg === 'careless')!;
  expect(JSON.stringify(line)).not.toContain(SECRET);
  expect(JSON.stringify(line)).not.toContain('Lindqvist');
});
