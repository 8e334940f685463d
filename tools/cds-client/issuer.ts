import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSigningKey, signJwt, type SigningKey } from './jwt';

/**
 * The harness's identity as a CDS client: an ES384 key pair, its JWKS served over HTTP at
 * `{iss}/.well-known/jwks.json`, and the issuer entry a service needs to trust it
 * (CDS_TRUSTED_ISSUERS, ../shared/design/runtime-contract.md). The issuer is the JWKS server's own
 * origin, so `jku` and `jwks_uri` are the same allow-listed URL.
 */
export interface HarnessIssuer {
  iss: string;
  jwksUri: string;
  key: SigningKey;
  /** Whether this process serves the JWKS (false when a fixed issuer's port was taken, e.g. by another run). */
  servingJwks: boolean;
  /** A JWT for one endpoint: aud = the exact URL called. */
  tokenFor(aud: string): string;
  /**
   * The CDS_TRUSTED_ISSUERS entry: by jwks_uri (the service fetches the JWKS) or inline (keys pinned;
   * jwks_uri declared beside them, so the jku every token carries is accepted and never fetched).
   */
  trustedIssuer(mode?: 'jwks_uri' | 'inline'): Record<string, unknown>;
  close(): Promise<void>;
}

export interface HarnessIssuerOptions {
  /** Listen address of the JWKS server when `iss` is not given (random port). */
  host?: string;
  port?: number;
  /** A fixed issuer URL (http://host:port): the JWKS is served on that port when it is free. */
  iss?: string;
  /** A key kept across runs; a fresh one otherwise. */
  key?: SigningKey;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startHarnessIssuer(options: HarnessIssuerOptions = {}): Promise<HarnessIssuer> {
  const key = options.key ?? createSigningKey();
  const jwks = JSON.stringify({ keys: [key.publicJwk] });
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/.well-known/jwks.json' || req.url === '/jwks.json')) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60', 'access-control-allow-origin': '*' });
      res.end(jwks);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  let iss: string;
  let servingJwks = true;
  if (options.iss) {
    const url = new URL(options.iss);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`--issuer must be an http(s) URL, got ${options.iss}`);
    iss = url.origin;
    try {
      if (url.protocol !== 'http:') throw new Error('https is served elsewhere');
      await listen(server, Number(url.port || 80), url.hostname.replace(/^\[|\]$/g, ''));
    } catch {
      // Another run holds the port, or the issuer is served elsewhere: the inline entry needs no JWKS server.
      servingJwks = false;
    }
  } else {
    const host = options.host ?? '127.0.0.1';
    await listen(server, options.port ?? 0, host);
    iss = `http://${host}:${(server.address() as AddressInfo).port}`;
  }
  const jwksUri = `${iss}/.well-known/jwks.json`;
  return {
    iss,
    jwksUri,
    key,
    servingJwks,
    tokenFor: (aud) => signJwt(key, { iss, aud, jku: jwksUri }),
    trustedIssuer: (mode = 'jwks_uri') => (mode === 'inline' ? { iss, jwks_uri: jwksUri, jwks: { keys: [key.publicJwk] } } : { iss, jwks_uri: jwksUri }),
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
