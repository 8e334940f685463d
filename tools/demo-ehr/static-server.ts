import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * Serves the demo EHR page (index.html, ehr.js, ehr.css) from its own origin, so its calls to the
 * CDS service and the FHIR server are cross-origin, as an EHR's or the sandbox's are.
 */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ehr.js': { file: 'ehr.js', type: 'text/javascript; charset=utf-8' },
  '/ehr.css': { file: 'ehr.css', type: 'text/css; charset=utf-8' },
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

export async function startDemoEhrServer(options: { host?: string; port?: number } = {}): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://demo.invalid').pathname;
    const entry = FILES[path];
    if (req.method !== 'GET' || !entry) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': entry.type, 'cache-control': 'no-store' });
    res.end(readFileSync(join(__dirname, entry.file)));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
