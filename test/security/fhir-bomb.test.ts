import { constants as zlibConstants, brotliCompressSync, gzipSync } from 'node:zlib';
import request from 'supertest';
import { buildTestApp, postHook, type TestApp } from '../support/app';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server';
import { ELIGIBILITY, patientViewRequest } from '../support/requests';

/**
 * The attack from the go-live security review (issue 14, High 1): a FHIR server answering every
 * query with a few hundred bytes of brotli that inflate to 16.7 MB of JSON, and a 200 MB gzip bomb.
 * Before: one call took 4 s past a 2 s deadline and RSS grew by 640 MB; 8 concurrent calls took
 * 32 s each, RSS 2.9 GB, /healthz stalled 23 s. Now every call must end near its deadline with a
 * 412, memory must stay bounded, and the process must stay responsive. Bounds are generous.
 */
const PATIENT = 'pt-bomb';
const DEADLINE_MS = 2000;

/** ~16.7 MB of JSON (one long string member) in a few KB of brotli. */
const BROTLI_BOMB = brotliCompressSync(Buffer.from(`{"resourceType":"Bundle","type":"searchset","x":"${'0'.repeat(16_700_000)}"}`), {
  params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 },
});

/** 200 MB once inflated: 200 gzip members of 1 MB of zeros each (gunzip reads every member). */
function gzipBomb(): Buffer {
  const mebibyteOfZeros = gzipSync(Buffer.alloc(1_000_000, 0x30), { level: 9 });
  return Buffer.concat([gzipSync('{"resourceType":"Bundle","type":"searchset","x":"'), ...Array.from({ length: 200 }, () => mebibyteOfZeros), gzipSync('"}')]);
}
const GZIP_BOMB = gzipBomb();

function bombServer(bomb: Buffer, encoding: 'br' | 'gzip'): Promise<TestFhirServer> {
  return startFhirServer([], {
    handle: (_path, _respond, { res }) => {
      res.writeHead(200, { 'content-type': 'application/fhir+json', 'content-encoding': encoding, 'content-length': String(bomb.length) });
      res.end(bomb);
      return true;
    },
  });
}

/** Runs `work` while sampling this process's RSS; returns the largest growth over the starting value. */
async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growthMb: number }> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, growthMb: (peak - start) / 1_048_576 };
  } finally {
    clearInterval(sampler);
  }
}

let t: TestApp;
let brotli: TestFhirServer;
let gzip: TestFhirServer;

beforeAll(async () => {
  t = await buildTestApp({ env: { CDS_FHIR_TIMEOUT_MS: String(DEADLINE_MS), CDS_RATE_LIMIT_MAX: '100000' } });
  brotli = await bombServer(BROTLI_BOMB, 'br');
  gzip = await bombServer(GZIP_BOMB, 'gzip');
});
afterAll(async () => {
  await t.close();
  await brotli.close();
  await gzip.close();
});

test('the bombs are what the review used: tiny on the wire, huge inflated', () => {
  expect(BROTLI_BOMB.length).toBeLessThan(64 * 1024);
  expect(GZIP_BOMB.length).toBeLessThan(1024 * 1024);
});

test('one call against a brotli bomb server: a 412 within the deadline (plus margin), memory growth bounded', async () => {
  const { result, growthMb } = await peakRssGrowth(async () => {
    const started = performance.now();
    const response = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer: brotli.url }));
    return { response, ms: performance.now() - started };
  });
  expect(result.response.status).toBe(412);
  expect(result.response.body.issue[0].details.coding[0].code).toBe('CDS_PREFETCH_UNAVAILABLE');
  expect(result.ms).toBeLessThan(DEADLINE_MS + 5000);
  expect(growthMb).toBeLessThan(200);
});

test('eight concurrent calls against the brotli bomb: each answers near the deadline, RSS stays far under the 512 Mi pod limit, /healthz stays responsive', async () => {
  const { result, growthMb } = await peakRssGrowth(async () => {
    const started = performance.now();
    const calls = Array.from({ length: 8 }, () => postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer: brotli.url })));
    const health = (async () => {
      const healthStarted = performance.now();
      const answer = await request(t.app.server).get('/healthz');
      return { status: answer.status, ms: performance.now() - healthStarted };
    })();
    const responses = await Promise.all(calls);
    return { responses, health: await health, ms: performance.now() - started };
  });
  for (const response of result.responses) expect(response.status).toBe(412);
  expect(result.ms).toBeLessThan(DEADLINE_MS + 8000);
  expect(result.health.status).toBe(200);
  expect(result.health.ms).toBeLessThan(5000);
  expect(growthMb).toBeLessThan(250);
});

test('a 200 MB gzip bomb is refused without inflating it: a 412 and bounded memory', async () => {
  const { result, growthMb } = await peakRssGrowth(() => postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer: gzip.url })));
  expect(result.status).toBe(412);
  expect(growthMb).toBeLessThan(150);
});

test('every attacked call is logged as a 412 with its code, and the service still answers afterwards', async () => {
  const failures = t.logs.filter((l) => l.msg === 'request completed' && l.status === 412);
  expect(failures.length).toBe(10);
  for (const line of failures) expect(line.errorCode).toBe('CDS_PREFETCH_UNAVAILABLE');
  const health = await request(t.app.server).get('/healthz');
  expect(health.status).toBe(200);
});
