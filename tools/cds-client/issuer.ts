import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSigningKey, signJwt, type SigningKey } from './jwt';

/**
 * The harness's identity as a CDS client: an ES384 key pair generated at start, its JWKS served over
 * HTTP at `{iss}/.well-known/jwks.json`, and the issuer entry a service needs to trust it
 * (CDS_TRUSTED_ISSUERS, ../shared/design/runtime-contract.md). The issuer is the JWKS server's own
 * origin, so `jku` and `jwks_uri` are the same allow-listed URL.
 */
export interface HarnessIssuer {
  iss: string;
  jwksUri: string;
  key: SigningKey;
  /** A JWT for one endpoint: aud = the exact URL called. */
  tokenFor(aud: string): string;
  /** Entries for a CDS_TRUSTED_ISSUERS file: by jwks_uri (the service fetches the JWKS) or inline. */
  trustedIssuer(mode?: 'jwks_uri' | 'inline'): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startHarnessIssuer(options: { host?: string; port?: number } = {}): Promise<HarnessIssuer> {
  const key = createSigningKey();
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
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const iss = `http://${host}:${(server.address() as AddressInfo).port}`;
  const jwksUri = `${iss}/.well-known/jwks.json`;
  return {
    iss,
    jwksUri,
    key,
    tokenFor: (aud) => signJwt(key, { iss, aud, jku: jwksUri }),
    trustedIssuer: (mode = 'jwks_uri') => (mode === 'inline' ? { iss, jwks: { keys: [key.publicJwk] } } : { iss, jwks_uri: jwksUri }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
