import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { buildTestApp, postHook, type TestApp } from '../support/app';
import { ELIGIBILITY, patientViewRequest } from '../support/requests';

/**
 * Issue 14, Low 9: each call opens ~14 sockets to its FHIR server; 200 calls to a hung server held
 * 2,800 connections. Now one origin gets at most CDS_FHIR_MAX_SOCKETS_PER_ORIGIN sockets from the
 * whole process, and queries queued for one still end at their call's deadline.
 */
const DEADLINE_MS = 2000;
const SOCKET_CAP = 4;

let hung: Server;
let url: string;
const sockets: Socket[] = [];
let open = 0;
/** Most sockets open at once before any call's deadline fired (aborts then replace sockets, and the server sees each close late). */
let peakBeforeDeadlines = 0;
let testStarted = Number.POSITIVE_INFINITY;
let t: TestApp;

beforeAll(async () => {
  // Accepts connections and never answers: every query waits for its deadline.
  hung = createServer((socket) => {
    sockets.push(socket);
    open += 1;
    if (performance.now() < testStarted + DEADLINE_MS) peakBeforeDeadlines = Math.max(peakBeforeDeadlines, open);
    socket.on('close', () => (open -= 1));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
  t = await buildTestApp({ env: { CDS_FHIR_TIMEOUT_MS: String(DEADLINE_MS), CDS_FHIR_MAX_SOCKETS_PER_ORIGIN: String(SOCKET_CAP), CDS_RATE_LIMIT_MAX: '100000' } });
});
afterAll(async () => {
  await t.close();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => hung.close(resolve));
});

test('20 concurrent calls to a hung FHIR server: at most the per-origin cap of sockets, every call answered near its deadline', async () => {
  const started = performance.now();
  testStarted = started;
  const responses = await Promise.all(Array.from({ length: 20 }, () => postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: 'pt-hung', fhirServer: url }))));
  const elapsed = performance.now() - started;
  for (const response of responses) expect(response.status).toBe(412);
  // Every call's deadline starts after the test's clock, so until then no query was aborted and
  // the server's count is exact. Unbounded, these 20 calls open one socket per query (over 100).
  expect(peakBeforeDeadlines).toBeGreaterThan(0);
  expect(peakBeforeDeadlines).toBeLessThanOrEqual(SOCKET_CAP);
  expect(elapsed).toBeLessThan(DEADLINE_MS + 8000);
});
