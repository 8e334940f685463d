import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { buildTestApp, postHook, type TestApp } from '../support/app';
import { chartOf } from '../support/fixtures';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server';
import { ELIGIBILITY, patientViewRequest } from '../support/requests';

/**
 * Issue 14, Medium 5: a trusted client (or a stolen client key) names a hostile or internal
 * fhirServer. With the allow-list (which production now requires) the EHR's access token never
 * leaves for an unlisted host, whatever spelling the address takes; without it (development), the
 * 412 text must not tell an open internal port from a closed one.
 */
const PATIENT = 'pt-candidate';
const TOKEN = 'ehr-access-token-hostile-1';
const chart = chartOf('candidate-postmenopausal');

let allowed: TestFhirServer;
let internal: TestFhirServer;
let guarded: TestApp;

beforeAll(async () => {
  allowed = await startFhirServer(chart);
  internal = await startFhirServer(chart);
  guarded = await buildTestApp({ env: { CDS_FHIR_SERVER_ALLOWLIST: allowed.url } });
});
afterAll(async () => {
  await guarded.close();
  await allowed.close();
  await internal.close();
});

test('the allow-listed server is used, with the token', async () => {
  const response = await postHook(guarded.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer: allowed.url, accessToken: TOKEN }));
  expect(response.status).toBe(200);
  expect(allowed.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
});

test('every spelling of an unlisted host is refused with 400 before any request (decimal, hex, IPv4-mapped IPv6, userinfo, other ports)', async () => {
  const port = new URL(internal.url).port;
  const allowedPort = new URL(allowed.url).port;
  const spellings = [
    internal.url,
    `http://2130706433:${port}`,
    `http://0x7f000001:${port}`,
    `http://0177.0.0.1:${port}`,
    `http://[::ffff:127.0.0.1]:${port}`,
    `http://[::ffff:7f00:1]:${port}`,
    `http://127.0.0.1:${allowedPort}@127.0.0.1:${port}`,
    `http://user:pass@127.0.0.1:${allowedPort}`,
    `http://localhost:${port}`,
    `https://127.0.0.1:${allowedPort}`,
    `http://127.0.0.1:${port}#@127.0.0.1:${allowedPort}`,
  ];
  for (const fhirServer of spellings) {
    const response = await postHook(guarded.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer, accessToken: TOKEN }));
    if (response.status !== 400) throw new Error(`${fhirServer} was not refused (status ${response.status})`);
    expect(response.body.issue[0].details.coding[0].code).toMatch(/^CDS_(FHIR_SERVER_NOT_ALLOWED|REQUEST_INVALID)$/);
  }
  expect(internal.requests).toHaveLength(0);
});

describe('without an allow-list (development only): the 412 does not reveal port state', () => {
  let open: TestApp;
  let listening: Server;
  let closedPort: number;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    open = await buildTestApp({ env: { CDS_FHIR_TIMEOUT_MS: '2000' } });
    // An open port that speaks no HTTP, and a port nobody listens on.
    listening = createServer((socket) => {
      sockets.push(socket);
      socket.end('SSH-2.0-OpenSSH_9.2\r\n');
    });
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
  });
  afterAll(async () => {
    await open.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => listening.close(resolve));
  });

  test('an open non-HTTP port, a closed port and an HTTP server answering 500 give the same 412 text', async () => {
    const erroring = await startFhirServer([], { handle: (_p, respond) => (respond(500, ''), true) });
    try {
      const texts = [];
      for (const fhirServer of [`http://127.0.0.1:${(listening.address() as AddressInfo).port}`, `http://127.0.0.1:${closedPort}`, erroring.url]) {
        const response = await postHook(open.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer }));
        expect(response.status).toBe(412);
        texts.push(response.body.issue[0].diagnostics);
      }
      expect(new Set(texts).size).toBe(1);
      expect(texts[0]).toContain('the FHIR server did not provide usable data');
    } finally {
      await erroring.close();
    }
  });
});
