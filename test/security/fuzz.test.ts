import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import request from 'supertest';
import { buildTestApp, postHook, ruleIdsOf, type TestApp } from '../support/app';
import { chartOf, zoledronicDraft } from '../support/fixtures';
import { generateSigningKey, jwksOf, signToken, writeIssuerFile } from '../support/jwt';
import { ELIGIBILITY, ORDER_SELECT, orderRequest, patientViewRequest, prefetchFor } from '../support/requests';

/**
 * Hostile input, property-based (fast-check): random JSON, mutated CDS requests, deep nesting, huge
 * arrays, wrong types, prototype-pollution keys, unicode, numbers as strings, raw junk — against the
 * hook, discovery and feedback endpoints. Whatever arrives: no 5xx, no hang, the process stays up,
 * memory stays bounded, and nothing from the request reaches the log. Run counts are moderate so the
 * suite stays fast on two cores; fast-check prints the seed of any failure to replay it.
 */
const PATIENT = 'pt-candidate';
const chart = chartOf('candidate-postmenopausal');
/** PHI from the chart and request: none of it may be logged, whatever the fuzzer did to the request. */
const PHI = [PATIENT, 'Lindqvist', 'Maren', 'MRN-100234', '1960-03-14', 'Springfield'];
const FEEDBACK = `/cds-services/${ELIGIBILITY}/feedback`;
const ENDPOINTS = [`/cds-services/${ELIGIBILITY}`, `/cds-services/${ORDER_SELECT}`, FEEDBACK, '/cds-services/unknown-service'];

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ env: { LOG_LEVEL: 'trace', CDS_RATE_LIMIT_MAX: '10000000', CDS_BODY_LIMIT_BYTES: '4194304' } });
});
afterAll(() => t.close());

/** A request that must not hurt the service: answered, not 5xx. */
async function send(path: string, body: string, contentType = 'application/json') {
  const response = await request(t.app.server).post(path).timeout(15_000).set('content-type', contentType).send(body);
  if (response.status >= 500) throw new Error(`HTTP ${response.status} for ${path}: ${body.slice(0, 300)}`);
  return response;
}

const pvBase = () => patientViewRequest({ patientId: PATIENT, prefetch: prefetchFor(ELIGIBILITY, chart, PATIENT), hookInstance: '0f5f4ba0-3b0b-4a7c-9d58-2a8c2f3b9d10' });
const osBase = () => orderRequest('order-select', { patientId: PATIENT, prefetch: prefetchFor(ORDER_SELECT, chart, PATIENT), draftOrders: [zoledronicDraft(PATIENT)], hookInstance: '0f5f4ba0-3b0b-4a7c-9d58-2a8c2f3b9d11' });

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** Paths into a JSON value (objects and arrays; the first 20 items of an array), so mutations can land anywhere. */
function pathsOf(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (prefix.length > 40) return out;
  if (Array.isArray(value)) value.slice(0, 20).forEach((v, i) => pathsOf(v, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  return out;
}

function getAt(root: Json, path: Path): Json {
  let node: Json = root;
  for (const key of path) node = (node as Record<string | number, Json>)[key]!;
  return node;
}

/** Sets an own, enumerable property even for "__proto__" (a plain assignment would set the prototype). */
function defineOwn(target: object, key: string | number, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Deep nesting is written into the JSON text, not built as objects (the test's own JSON.stringify would
 * overflow first): a placeholder string is replaced by `[[[…"bottom"…]]]` or `{"a":{"a":…}}`.
 */
const deepValue = (depth: number, kind: 'array' | 'object'): Json => `@@deep:${kind}:${depth}@@`;

function serialize(value: Json): string {
  return JSON.stringify(value).replace(/"@@deep:(array|object):(\d+)@@"/g, (_m, kind: string, n: string) => {
    const depth = Number(n);
    return kind === 'array' ? `${'['.repeat(depth)}"bottom"${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}"bottom"${'}'.repeat(depth)}`;
  });
}

/** Values a hostile or broken client might put anywhere. */
const nasty: fc.Arbitrary<Json> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.constantFrom('', ' ', 'null', 'true', '0', '-1', '1e309', 'NaN', '\u0000', '\u202e', '../../etc/passwd', '{{context.patientId}}', 'Patient/../../x', '%00', '<script>', 'Infinity'),
  fc.integer().map((n) => String(n)),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 5e-324),
  fc.boolean(),
  fc.constant(null),
  fc.constant([] as Json),
  fc.constant({} as Json),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.integer({ min: 200, max: 5000 }).map((depth) => deepValue(depth, depth % 2 ? 'array' : 'object')),
  fc.integer({ min: 1000, max: 50_000 }).map((n) => Array.from({ length: n }, (_, i) => (i % 3 ? i : { resourceType: 'Condition' })) as Json),
  fc.integer({ min: 1000, max: 200_000 }).map((n) => 'x'.repeat(n)),
);

type Mutation =
  | { op: 'set'; at: number; value: Json }
  | { op: 'delete'; at: number }
  | { op: 'proto'; at: number; key: '__proto__' | 'constructor' | 'prototype'; value: Json }
  | { op: 'stringify-numbers'; at: number }
  | { op: 'wrap'; at: number }
  | { op: 'repeat'; at: number; times: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: nasty }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('proto' as const), at: fc.nat(), key: fc.constantFrom('__proto__' as const, 'constructor' as const, 'prototype' as const), value: fc.oneof(fc.constant({ polluted: true } as Json), fc.constant({ prototype: { polluted: true } } as Json), nasty) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('stringify-numbers' as const), at: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('wrap' as const), at: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('repeat' as const), at: fc.nat(), times: fc.integer({ min: 2, max: 2000 }) }), weight: 1 },
);

/** A fresh copy (JSON.parse keeps "__proto__" as an own key), so generated values are never shared or mutated. */
const copy = (value: Json): Json => JSON.parse(JSON.stringify(value)) as Json;

function mutate(base: Json, mutations: Mutation[]): Json {
  const root = copy(base);
  for (const original of mutations) {
    const m = 'value' in original ? { ...original, value: copy(original.value) } : original;
    const paths = pathsOf(root).filter((p) => p.length > 0);
    const path = paths[m.at % paths.length]!;
    const parent = getAt(root, path.slice(0, -1)) as Record<string | number, Json>;
    const key = path[path.length - 1]!;
    switch (m.op) {
      case 'set':
        defineOwn(parent, key, m.value);
        break;
      case 'delete':
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
        break;
      case 'proto': {
        // JSON has no keys on arrays: the key goes on an object (the target, its parent, or a new item).
        const target = parent[key];
        if (target && typeof target === 'object' && !Array.isArray(target)) defineOwn(target, m.key, m.value);
        else if (!Array.isArray(parent)) defineOwn(parent, m.key, m.value);
        else {
          const item = {};
          defineOwn(item, m.key, m.value);
          parent.push(item);
        }
        break;
      }
      case 'stringify-numbers':
        defineOwn(parent, key, JSON.parse(JSON.stringify(parent[key]!, (_k, v: unknown) => (typeof v === 'number' ? String(v) : v))) as Json);
        break;
      case 'wrap':
        defineOwn(parent, key, [parent[key]!]);
        break;
      case 'repeat': {
        const value = parent[key]!;
        defineOwn(parent, key, Array.isArray(value) ? Array.from({ length: m.times }, (_, i) => value[i % Math.max(1, value.length)] ?? null) : Array.from({ length: Math.min(m.times, 200) }, () => value));
        break;
      }
    }
  }
  return root;
}

const RUNS = { randomJson: 150, mutated: 300, deep: 16, junk: 120, discovery: 80, tokens: 150 };
const heapBefore = { value: 0 };

describe('hostile input never breaks the service', () => {
  beforeAll(() => {
    gc();
    heapBefore.value = process.memoryUsage().heapUsed;
  });

  test('random JSON bodies on the hook and feedback endpoints', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), fc.jsonValue({ maxDepth: 6 }), async (path, body) => {
        const response = await send(path, JSON.stringify(body));
        expect([400, 404, 413]).toContain(response.status);
      }),
      { numRuns: RUNS.randomJson },
    );
  });

  test('mutated patient-view and order-select requests (wrong types, deep nesting, huge arrays, __proto__, unicode, numbers as strings)', async () => {
    const bases: Json[] = [pvBase() as unknown as Json, osBase() as unknown as Json];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (which, mutations) => {
        const path = ENDPOINTS[which]!;
        const body = serialize(mutate(bases[which]!, mutations));
        const response = await send(path, body);
        expect([200, 400, 404, 412, 413]).toContain(response.status);
        if (response.status === 200) expect(Array.isArray(response.body.cards)).toBe(true);
        else expect(response.body.resourceType).toBe('OperationOutcome');
      }),
      { numRuns: RUNS.mutated },
    );
  });

  test('deep nesting at the top, in the context and inside prefetched resources', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1000, max: 100_000 }), fc.constantFrom('top', 'context', 'resource', 'extension'), async (depth, where) => {
        const body = pvBase() as unknown as Record<string, Json>;
        const deep = deepValue(depth, depth % 2 ? 'array' : 'object');
        if (where === 'top') defineOwn(body, 'extension', deep);
        if (where === 'context') defineOwn(body.context as object, 'encounterId', deep);
        if (where === 'resource') defineOwn(((body.prefetch as Record<string, Json>).conditions as { entry: { resource: object }[] }).entry[0]!.resource, 'code', deep);
        if (where === 'extension') defineOwn((body.prefetch as Record<string, Json>).patient as object, 'extension', [deep]);
        const response = await send(`/cds-services/${ELIGIBILITY}`, serialize(body));
        expect(response.status).toBeLessThan(500);
      }),
      { numRuns: RUNS.deep },
    );
  });

  test('raw junk: not JSON, odd content types, empty bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENDPOINTS),
        fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom('', '{', '[', '{"a":1}{"b":2}', '\ufeff{}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', 'null', '1', '"x"')),
        fc.constantFrom('application/json', 'application/fhir+json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data; boundary=x'),
        async (path, body, contentType) => {
          const response = await send(path, body, contentType);
          expect([400, 404, 413, 415]).toContain(response.status);
        },
      ),
      { numRuns: RUNS.junk },
    );
  });

  test('discovery with random query strings, methods and headers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 100 }), fc.constantFrom('get', 'head', 'post', 'put', 'delete', 'patch'), fc.string({ unit: 'grapheme-ascii', maxLength: 200 }), async (query, method, header) => {
        const agent = request(t.app.server);
        const response = await agent[method](`/cds-services?${encodeURIComponent(query)}`)
          .timeout(15_000)
          .set('x-anything', header.replace(/[^\x20-\x7e]/g, ''))
          .set('accept', header.replace(/[^\x20-\x7e]/g, '') || '*/*');
        expect(response.status).toBeLessThan(500);
        if (method === 'get') expect(response.status).toBe(200);
      }),
      { numRuns: RUNS.discovery },
    );
  });

  test('a body over the limit is refused with 413, whatever its shape', async () => {
    for (const body of [JSON.stringify({ x: 'y'.repeat(5_000_000) }), `[${'1,'.repeat(2_500_000)}1]`]) {
      const response = await send(`/cds-services/${ELIGIBILITY}`, body);
      expect(response.status).toBe(413);
      expect(response.body.issue[0].details.coding[0].code).toBe('CDS_BODY_TOO_LARGE');
    }
  });

  test('afterwards: the process is up, answers correctly, memory is bounded, and no PHI was logged', async () => {
    expect((await request(t.app.server).get('/healthz')).status).toBe(200);
    const response = await postHook(t.app, ELIGIBILITY, pvBase());
    expect(response.status).toBe(200);
    expect(ruleIdsOf(response.body.cards)).toEqual(['PV-RECOMMEND', 'PV-CALCIUM-VITD']);
    // No prototype was polluted by any payload.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).x).toBeUndefined();

    const logs = t.rawLogs.join('');
    // Every fuzzed request was answered and logged (one line each).
    expect(t.logs.filter((l) => l.msg === 'request completed').length).toBeGreaterThanOrEqual(RUNS.randomJson + RUNS.mutated + RUNS.deep + RUNS.junk + RUNS.discovery);
    for (const phi of PHI) expect(logs).not.toContain(phi);
    // Requests are not kept: after a collection the heap is back near where it started.
    t.rawLogs.length = 0;
    gc();
    const growth = process.memoryUsage().heapUsed - heapBefore.value;
    expect(growth).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('hostile Authorization headers (CDS_AUTH=required)', () => {
  let authed: TestApp;
  let token: string;
  const BASE = 'https://cds.hospital.test';
  beforeAll(async () => {
    const key = await generateSigningKey('ES384');
    authed = await buildTestApp({
      env: { CDS_AUTH: 'required', PUBLIC_BASE_URL: BASE, CDS_RATE_LIMIT_MAX: '10000000', CDS_TRUSTED_ISSUERS: writeIssuerFile([{ iss: 'https://ehr.example', jwks: jwksOf(key) }]) },
    });
    token = await signToken(key, 'https://ehr.example', `${BASE}/cds-services`);
  });
  afterAll(() => authed.close());

  test('random and mutated bearer tokens: always a 401, never a crash', async () => {
    const header = fc.oneof(
      fc.string({ unit: 'grapheme-ascii', maxLength: 300 }).map((s) => `Bearer ${s}`),
      fc.string({ unit: 'grapheme-ascii', maxLength: 300 }),
      // A genuine token with one character changed, a piece cut out, or junk appended.
      fc.tuple(fc.nat(), fc.constantFrom(...'AQgw_-.=+/ !'.split(''))).map(([i, c]) => {
        const at = i % token.length;
        return `Bearer ${token.slice(0, at)}${c}${token.slice(at + 1)}`;
      }),
      fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `Bearer ${token.slice(0, a % token.length)}${token.slice((a % token.length) + 1 + (b % 40))}`),
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 50 }).map((junk) => `Bearer ${token}.${junk}`),
      fc.record({ alg: fc.constantFrom('none', 'HS256', 'ES384', 'RS384', 'PS256', 'EdDSA', ''), kid: fc.string(), typ: fc.string(), jku: fc.webUrl() }).map((h) => `Bearer ${Buffer.from(JSON.stringify(h)).toString('base64url')}.${token.split('.')[1]}.${token.split('.')[2]}`),
    );
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        const value = authorization.replace(/[^\x20-\x7e]/g, '');
        const response = await request(authed.app.server).get('/cds-services').timeout(15_000).set('authorization', value);
        // The one unmodified genuine token may pass the first time (a mutation can be a no-op).
        if (response.status === 200) expect(value).toBe(`Bearer ${token}`);
        else expect(response.status).toBe(401);
      }),
      { numRuns: RUNS.tokens },
    );
    expect((await request(authed.app.server).get('/healthz')).status).toBe(200);
    expect(authed.rawLogs.join('')).not.toContain(token.split('.')[2]);
  });
});
