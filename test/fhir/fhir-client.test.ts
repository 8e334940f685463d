import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { FhirClient, FhirFetchError } from '../../src/fhir/fhir-client';

/**
 * The FHIR client on its own, where the service's HTTP tests cannot reach: a query that waits for
 * a connection must still end at its own deadline.
 */
let server: Server;
let base: string;
const hanging: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/hang')) {
      hanging.push(res);
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
  const first = client.search(`${base}/hang`, undefined, holder.signal).catch((error: unknown) => error);
  try {
    const second = await client.search(`${base}/Condition`, undefined, AbortSignal.timeout(200)).catch((error: unknown) => error);
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
