import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { FhirClient, FhirFetchError } from '../../src/fhir/fhir-client';
import { WorkSlots } from '../../src/fhir/work-slots';

/**
 * The FHIR client on its own, where the service's HTTP tests cannot reach: a query that waits for
 * a connection must still end at its own deadline.
 */
let server: Server;
let base: string;
const hanging: ServerResponse[] = [];
/** Called when a /hang request has reached the server (it holds its connection from then on). */
let onHang: () => void = () => undefined;

/**
 * A deadline the test fires itself, at the moment it chooses: aborted with the same reason
 * AbortSignal.timeout() gives (a TimeoutError), so the client reports 'timeout' exactly as at a
 * real deadline, without a sub-second timer racing a loaded machine.
 */
function triggeredDeadline(): { signal: AbortSignal; expire: () => void } {
  const controller = new AbortController();
  return { signal: controller.signal, expire: () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')) };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/hang')) {
      hanging.push(res);
      onHang();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/fhir+json' });
    res.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('a query queued behind a busy connection ends at its own deadline, not when the connection frees up', async () => {
  // One connection: the first query holds it (the server never answers), the second has to wait.
  const pool = new Agent({ connections: 1 });
  const client = new FhirClient({ dispatcher: pool, maxPages: 1, maxResponseBytes: 65536, maxResources: 100 });
  const holder = new AbortController();
  const held = new Promise<void>((resolve) => (onHang = resolve));
  const first = client.search(`${base}/hang`, undefined, holder.signal).catch((error: unknown) => error);
  try {
    // The first query holds the only connection (the server has it and never answers); the second
    // is queued behind it, and its deadline passes while it waits.
    await held;
    const deadline = triggeredDeadline();
    const dispatch = pool.dispatch.bind(pool);
    let queued!: () => void;
    const inPool = new Promise<void>((resolve) => (queued = resolve));
    pool.dispatch = (options, handler) => {
      const accepted = dispatch(options, handler);
      queued();
      return accepted;
    };
    const pending = client.search(`${base}/Condition`, undefined, deadline.signal).catch((error: unknown) => error);
    await inPool;
    deadline.expire();
    const second = await pending;
    expect(second).toBeInstanceOf(FhirFetchError);
    expect((second as FhirFetchError).reason).toBe('timeout');
  } finally {
    holder.abort();
    expect(((await first) as FhirFetchError).reason).toBe('cancelled');
    await pool.close();
  }
});

test('the same pool answers normally once nothing holds it', async () => {
  const pool = new Agent({ connections: 1 });
  const client = new FhirClient({ dispatcher: pool, maxPages: 1, maxResponseBytes: 65536, maxResources: 100 });
  try {
    await expect(client.search(`${base}/Condition`, undefined, AbortSignal.timeout(2000))).resolves.toEqual([]);
  } finally {
    await pool.close();
  }
});

describe('bounded work per hook call and per process (issue 14)', () => {
  /** A server answering every /big query with one ~40 KB Bundle. */
  const bigBundle = JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [], padding: 'x'.repeat(40_000) });
  let bigServer: Server;
  let bigBase: string;
  beforeAll(async () => {
    bigServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.end(bigBundle);
    });
    await new Promise<void>((resolve) => bigServer.listen(0, '127.0.0.1', resolve));
    bigBase = `http://127.0.0.1:${(bigServer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    bigServer.closeAllConnections();
    await new Promise((resolve) => bigServer.close(resolve));
  });

  test('the call budget spans queries: the third 40 KB answer of a 100 KB budget is refused as too-large; a new call starts afresh', async () => {
    const shared = new FhirClient({ maxPages: 1, maxResponseBytes: 65536, maxResources: 100, maxCallBytes: 100_000 });
    const call = shared.forCall();
    await expect(call.search(`${bigBase}/big`, undefined, AbortSignal.timeout(2000))).resolves.toEqual([]);
    await expect(call.search(`${bigBase}/big`, undefined, AbortSignal.timeout(2000))).resolves.toEqual([]);
    const third = await call.search(`${bigBase}/big`, undefined, AbortSignal.timeout(2000)).catch((error: unknown) => error);
    expect((third as FhirFetchError).reason).toBe('too-large');
    await expect(shared.forCall().search(`${bigBase}/big`, undefined, AbortSignal.timeout(2000))).resolves.toEqual([]);
  });

  test('more resources than a query may return are refused before the answer is parsed', async () => {
    const client = new FhirClient({ maxPages: 1, maxResponseBytes: 65536, maxResources: 2 });
    const many = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: Array.from({ length: 5 }, (_, i) => ({ resource: { resourceType: 'Condition', id: `c${i}` } })) }));
    });
    await new Promise<void>((resolve) => many.listen(0, '127.0.0.1', resolve));
    try {
      const error = await client.search(`http://127.0.0.1:${(many.address() as AddressInfo).port}/Condition`, undefined, AbortSignal.timeout(2000)).catch((e: unknown) => e);
      expect((error as FhirFetchError).reason).toBe('too-large');
    } finally {
      many.closeAllConnections();
      await new Promise((resolve) => many.close(resolve));
    }
  });

  test('a query waiting for a decode slot ends at its own deadline', async () => {
    const slots = new WorkSlots(1);
    const held = await slots.acquire(new AbortController().signal);
    // The deadline passes once the query is waiting for the (held) slot, announced by acquire().
    const deadline = triggeredDeadline();
    const acquire = slots.acquire.bind(slots);
    let waiting!: () => void;
    const queued = new Promise<void>((resolve) => (waiting = resolve));
    slots.acquire = (signal) => {
      const slot = acquire(signal);
      waiting();
      return slot;
    };
    const client = new FhirClient({ maxPages: 1, maxResponseBytes: 65536, maxResources: 100, decodeSlots: slots });
    try {
      const pending = client.search(`${base}/Condition`, undefined, deadline.signal).catch((e: unknown) => e);
      await queued;
      deadline.expire();
      const error = await pending;
      expect((error as FhirFetchError).reason).toBe('timeout');
    } finally {
      held();
    }
    await expect(client.search(`${base}/Condition`, undefined, AbortSignal.timeout(2000))).resolves.toEqual([]);
  });
});
