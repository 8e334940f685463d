import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, type JsonWebKey, type KeyObject } from 'node:crypto';

/**
 * CDS Hooks 2.0 client JWTs (§Trusting CDS Clients), signed the way the public sandbox signs them:
 * ES384, header {alg, typ: "JWT", kid, jku}, claims {iss, aud, exp = iat + 300, iat, jti}. `aud` is the
 * exact URL being called (discovery, the service, or its /feedback). Plain node:crypto, no dependency.
 */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  /** The public key as a JWK with kid/alg/use, as published in the JWKS. */
  publicJwk: JsonWebKey & { kid: string; alg: 'ES384'; use: 'sig' };
}

export interface SignOptions {
  iss: string;
  aud: string;
  /** The JWKS URL announced in the header (optional in CDS Hooks; the sandbox sends it). */
  jku?: string;
  tenant?: string;
  /** Seconds since the epoch; defaults to now. */
  iat?: number;
  lifetimeSeconds?: number;
}

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** RFC 7638 JWK thumbprint (SHA-256) of an EC public key: a stable kid. */
function thumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return base64url(createHash('sha256').update(canonical).digest());
}

function signingKeyOf(privateKey: KeyObject, publicKey: KeyObject): SigningKey {
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = thumbprint(jwk);
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: 'ES384', use: 'sig' } };
}

export function createSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  return signingKeyOf(privateKey, publicKey);
}

/** The private key as a JWK, for a key file that keeps the client's identity across runs. */
export function privateJwkOf(key: SigningKey): JsonWebKey {
  return key.privateKey.export({ format: 'jwk' });
}

/** Reads a key written by privateJwkOf; throws a TypeError when it is not a P-384 private key. */
export function signingKeyFromPrivateJwk(jwk: JsonWebKey): SigningKey {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-384' || typeof jwk.d !== 'string') throw new TypeError('not an EC P-384 private key in JWK form');
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
  return signingKeyOf(privateKey, createPublicKey(privateKey));
}

export function signJwt(key: SigningKey, options: SignOptions): string {
  const iat = options.iat ?? Math.floor(Date.now() / 1000);
  const header = { alg: 'ES384', typ: 'JWT', kid: key.kid, ...(options.jku ? { jku: options.jku } : {}) };
  const payload = {
    iss: options.iss,
    aud: options.aud,
    exp: iat + (options.lifetimeSeconds ?? 300),
    iat,
    jti: randomUUID(),
    ...(options.tenant ? { tenant: options.tenant } : {}),
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  // JWS ES384 signatures are the raw r‖s pair (IEEE P1363), not DER.
  const signature = sign('sha384', Buffer.from(signingInput), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${base64url(signature)}`;
}

/** Splits a compact JWT without verifying it (for tests and debugging). */
export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signingInput: string; signature: Buffer } {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) throw new TypeError('not a compact JWS');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>,
    signingInput: `${header}.${payload}`,
    signature: Buffer.from(signature, 'base64url'),
  };
}
