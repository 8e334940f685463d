import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { AnyResource } from '../../src/engine/resource-index';
import { MiniFhirStore, searchset } from './mini-fhir-store';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

export interface FhirServerOptions {
  /** Entries per searchset page; next links follow. Unlimited by default. */
  pageSize?: number;
  /** Compress every answer this way when the request's Accept-Encoding allows it (as EHR servers do). */
  encoding?: 'gzip' | 'deflate' | 'br';
  /**
   * Override the answer for some requests (status codes, hangs, junk) — failing-server tests. Return
   * true when handled. `raw` gives the socket-level objects for hangs, trickles and dropped connections.
   */
  handle?: (
    path: string,
    respond: (status: number, body: string, headers?: Record<string, string>) => void,
    raw: { req: IncomingMessage; res: ServerResponse },
  ) => boolean;
}

export interface TestFhirServer {
  url: string;
  requests: RecordedRequest[];
  /**
   * Requests whose response is neither finished nor closed: a client that gave up on a hanging
   * request must have closed its socket (idle keep-alive sockets are not counted).
   */
  inFlight(): number;
  /**
   * Resolves when no request is in flight (at once if none is), on the 'close' event of the last
   * one, or after `boundMs` at the latest (then inFlight() says what is still open).
   */
  drained(boundMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A real HTTP FHIR server on a random local port, backed by MiniFhirStore (not a mocked fetch). */
export async function startFhirServer(resources: readonly AnyResource[], options: FhirServerOptions = {}): Promise<TestFhirServer> {
  const store = new MiniFhirStore(resources);
  const requests: RecordedRequest[] = [];
  let pending = 0;
  let idle: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers });
    pending += 1;
    res.once('close', () => {
      pending -= 1;
      if (pending > 0) return;
      const waiting = idle;
      idle = [];
      for (const resolve of waiting) resolve();
    });
    const respond = (status: number, body: string, headers: Record<string, string> = {}) => {
      const encoding = options.encoding;
      if (encoding && String(req.headers['accept-encoding'] ?? '').includes(encoding)) {
        const compress = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync }[encoding];
        res.writeHead(status, { 'content-type': 'application/fhir+json', 'content-encoding': encoding, ...headers });
        res.end(compress(body));
        return;
      }
      res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers });
      res.end(body);
    };
    if (options.handle?.(path, respond, { req, res })) return;
    const url = new URL(path, 'http://localhost');
    const segments = url.pathname.split('/').filter(Boolean);
    if (segments.length === 2) {
      const resource = store.read(segments[0]!, segments[1]!);
      if (!resource) return respond(404, JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] }));
      return respond(200, JSON.stringify(resource));
    }
    if (segments.length === 1) {
      const all = store.search(segments[0]!, url.searchParams);
      const offset = Number(url.searchParams.get('_offset') ?? 0);
      const size = options.pageSize ?? all.length;
      const page = all.slice(offset, offset + size);
      const links = offset + size < all.length ? [{ relation: 'next', url: `${base()}${url.pathname}?${withOffset(url.searchParams, offset + size)}` }] : undefined;
      return respond(200, JSON.stringify(searchset(page, links)));
    }
    return respond(400, JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-supported' }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const base = () => `http://127.0.0.1:${port}`;
  return {
    url: base(),
    requests,
    inFlight: () => pending,
    drained: (boundMs = 10_000) =>
      pending === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, boundMs).unref();
            idle.push(() => {
              clearTimeout(timer);
              resolve();
            });
          }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function withOffset(params: URLSearchParams, offset: number): string {
  const next = new URLSearchParams(params);
  next.set('_offset', String(offset));
  return next.toString();
}
