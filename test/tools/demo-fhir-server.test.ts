import { request as httpRequest } from 'node:http';
import { startDemoFhirServer, qualifyReferenceParams, type DemoFhirServer } from '../../tools/demo-fhir/demo-fhir-server';
import { daysSinceAnchor, shiftDateString, shiftDates } from '../../tools/demo-fhir/demo-dates';
import { loadDemoPatients, readDemoManifest } from '../../tools/demo-fhir/load-demo-patients';

/**
 * The demo FHIR server: Medplum's router plus the shims the sandbox and the service need
 * (../shared/reference/cds-hooks/sandbox-interop.md). Loaded as of the anchor date here, so the data
 * are exactly as written.
 */
type Bundle = { resourceType: string; total?: number; entry?: { fullUrl?: string; resource: Record<string, unknown> }[]; link?: { relation: string; url: string }[] };
const manifest = readDemoManifest();

let server: DemoFhirServer;
beforeAll(async () => {
  server = await startDemoFhirServer();
  await loadDemoPatients(server, { asOf: new Date(`${manifest.anchorDate}T12:00:00Z`) });
}, 60_000);
afterAll(() => server.close());

/** node:http rather than fetch: fetch may not set Host, and the links must follow the Host called. */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Bundle & Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${server.url}${path}`, { headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Bundle & Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a bare patient id in a reference parameter is read as Patient/<id> (MemoryRepository alone matches nothing)', async () => {
  expect(qualifyReferenceParams('Condition', new URLSearchParams('patient=zol-01')).toString()).toBe('subject=Patient%2Fzol-01');
  expect(qualifyReferenceParams('AllergyIntolerance', new URLSearchParams('patient=zol-01')).toString()).toBe('patient=Patient%2Fzol-01');
  expect(qualifyReferenceParams('Condition', new URLSearchParams('subject=zol-01&code=x')).toString()).toBe('subject=Group%2Fzol-01%2CPatient%2Fzol-01&code=x');
  expect(qualifyReferenceParams('Observation', new URLSearchParams('patient=Patient/zol-01&status=final')).toString()).toBe('subject=Patient%2Fzol-01&status=final');

  const unshimmed = await server.handle('GET', '/Condition?patient=zol-01');
  expect((unshimmed.body as Bundle).total).toBe(0);
  const { status, body } = await get('/Condition?patient=zol-01');
  expect(status).toBe(200);
  expect(body.total).toBe(1);
  expect(body.entry![0]!.resource.id).toBe('zol01-breast-cancer');
  expect(body.entry![0]!.fullUrl).toBe(`${server.url}/Condition/zol01-breast-cancer`);
});

test('form-encoded POST _search answers like the GET search', async () => {
  const form = 'patient=zol-01&code=2160-0,17861-6,1751-7';
  const response = await fetch(`${server.url}/Observation/_search`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  const posted = (await response.json()) as Bundle;
  const viaGet = (await get(`/Observation?${form}`)).body;
  expect(response.status).toBe(200);
  expect(posted.total).toBe(3);
  expect(posted.entry!.map((e) => e.resource.id).sort()).toEqual(viaGet.entry!.map((e) => e.resource.id).sort());
});

test('searches page (20 by default) with next links on the origin the client called; following them gives every result once', async () => {
  const labs = '/Observation?patient=zol-10&code=2160-0,17861-6';
  const first = await get(labs, { host: `localhost:${new URL(server.url).port}` });
  expect(first.body.total).toBe(26);
  expect(first.body.entry).toHaveLength(20);
  const next = first.body.link!.find((l) => l.relation === 'next')!.url;
  expect(next.startsWith(`http://localhost:${new URL(server.url).port}/Observation?`)).toBe(true);
  const second = (await get(new URL(next).pathname + new URL(next).search)).body;
  expect(second.entry).toHaveLength(6);
  expect(second.link!.some((l) => l.relation === 'next')).toBe(false);
  const ids = [...first.body.entry!, ...second.entry!].map((e) => e.resource.id);
  expect(new Set(ids).size).toBe(26);
});

test('/metadata is an R4 CapabilityStatement', async () => {
  const { status, body } = await get('/metadata');
  expect(status).toBe(200);
  expect(body).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', kind: 'instance' });
  const types = (body.rest as { resource: { type: string }[] }[])[0]!.resource.map((r) => r.type);
  expect(types).toEqual(expect.arrayContaining(['Patient', 'Condition', 'Observation', 'MedicationRequest', 'Procedure']));
});

test('reads, 404 as OperationOutcome, and a CORS preflight for a browser client', async () => {
  expect((await get('/Patient/zol-01')).body).toMatchObject({ resourceType: 'Patient', id: 'zol-01', name: [{ given: ['Margaret', 'Ann'] }] });
  const missing = await get('/Patient/nobody');
  expect(missing.status).toBe(404);
  expect(missing.body.resourceType).toBe('OperationOutcome');

  const preflight = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = httpRequest(`${server.url}/Observation/_search`, {
      method: 'OPTIONS',
      headers: { origin: 'https://sandbox.cds-hooks.org', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type', 'access-control-request-private-network': 'true' },
    });
    req.on('response', (res) => resolve({ status: res.statusCode!, headers: res.headers }));
    req.on('error', reject);
    req.end();
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers).toMatchObject({ 'access-control-allow-origin': '*', 'access-control-allow-private-network': 'true' });
  expect(String(preflight.headers['access-control-allow-headers'])).toMatch(/Authorization.*Content-Type/);
});

describe('dates move with the load day', () => {
  test('whole days, keeping time of day and offset; other strings untouched', () => {
    expect(shiftDateString('2026-11-27', 10)).toBe('2026-12-07');
    expect(shiftDateString('2024-02-28T09:30:00-06:00', 1)).toBe('2024-02-29T09:30:00-06:00');
    expect(shiftDateString('DEMO-0001', 10)).toBe('DEMO-0001');
    expect(shiftDates({ a: ['2026-01-01', { b: '2026-01-02T10:00:00Z' }], n: 3 }, -1)).toEqual({ a: ['2025-12-31', { b: '2026-01-01T10:00:00Z' }], n: 3 });
    expect(daysSinceAnchor('2026-11-27', new Date('2027-01-01T23:59:00Z'))).toBe(35);
  });

  test('a server loaded 100 days after the anchor date holds every date 100 days later', async () => {
    const later = await startDemoFhirServer();
    try {
      const result = await loadDemoPatients(later, { asOf: new Date(Date.parse(`${manifest.anchorDate}T12:00:00Z`) + 100 * 86_400_000) });
      expect(result).toMatchObject({ shiftDays: 100, patients: manifest.patients.length });
      const patient = (await later.handle('GET', '/Patient/zol-01')).body as { birthDate: string };
      expect(patient.birthDate).toBe('1960-06-22');
      const dose = (await later.handle('GET', '/MedicationAdministration/zol07-zol-dose-10')).body as { effectiveDateTime: string };
      expect(dose.effectiveDateTime).toBe(shiftDateString('2026-05-09T10:15:00-06:00', 100));
    } finally {
      await later.close();
    }
  }, 60_000);
});
