import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import { TEST_NOW } from './clock';

/** A CDS client's signing key, generated in the test (never a checked-in secret). */
export interface SigningKey {
  alg: 'ES384' | 'RS384' | 'ES256' | 'PS256';
  kid: string;
  privateKey: KeyLike;
  publicJwk: JWK;
}

export async function generateSigningKey(alg: SigningKey['alg'], kid: string = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicJwk };
}

export const jwksOf = (...keys: SigningKey[]) => ({ keys: keys.map((k) => k.publicJwk) });

export const NOW_SECONDS = Math.floor(TEST_NOW / 1000);

export interface TokenOptions {
  /** Claims merged over the defaults; a claim set to undefined is left out of the token. */
  claims?: Record<string, unknown>;
  /** Header fields merged over {alg, kid, typ: 'JWT'}; undefined removes one. */
  header?: Record<string, unknown>;
}

/** A CDS Hooks JWT as an EHR would send it: iss, aud, exp (+300 s), iat, jti; signed with `key`. */
export async function signToken(key: SigningKey, iss: string, aud: string | string[], options: TokenOptions = {}): Promise<string> {
  const claims = withoutUndefined({ iss, aud, iat: NOW_SECONDS, exp: NOW_SECONDS + 300, jti: randomUUID(), ...options.claims });
  const header = withoutUndefined({ alg: key.alg, kid: key.kid, typ: 'JWT', ...options.header });
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
}

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

export const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** An issuer allow-list file in a fresh temporary directory. */
export function writeIssuerFile(entries: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'cds-issuers-'));
  const path = join(dir, 'trusted-issuers.json');
  writeFileSync(path, JSON.stringify(entries, null, 2));
  return path;
}

export type JwksServerMode = 'ok' | 'error' | 'hang' | 'junk';

export interface JwksServer {
  url: string;
  /** GETs received (each is one key-set fetch by the service). */
  fetches: number;
  setKeys(jwks: { keys: JWK[] }): void;
  setMode(mode: JwksServerMode): void;
  close(): Promise<void>;
}

/** A real HTTP server publishing a JWK Set, whose keys (rotation) and health can be changed mid-test. */
export async function startJwksServer(jwks: { keys: JWK[] }): Promise<JwksServer> {
  let current = jwks;
  let mode: JwksServerMode = 'ok';
  let fetches = 0;
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    fetches += 1;
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    if (mode === 'hang') {
      hanging.push(res);
      return;
    }
    if (mode === 'error') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('down');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(mode === 'junk' ? '{"keys": not json' : JSON.stringify(current));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get fetches() {
      return fetches;
    },
    setKeys(next) {
      current = next;
    },
    setMode(next) {
      mode = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
