import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import type { JSONWebKeySet } from 'jose';
import { createAjv, summarizeErrors } from '../knowledge/ajv';

/**
 * The CDS_TRUSTED_ISSUERS file: which CDS clients (EHRs) may call the service, and where their
 * public keys are. CDS Hooks 2.0 §Trusting CDS Clients: "maintain an allowlist of iss and jku urls".
 *
 * Each entry names one issuer (`iss`, compared exactly) and either
 * - `jwks_uri`: the client's JWK Set URL, the only URL ever fetched for this issuer (a token's `jku`
 *   header must be absent or equal to it), or
 * - `jwks`: the public keys pinned inline (nothing is fetched); an optional `jwks_uri` beside it is
 *   then only what a token's `jku` may name.
 * `tenants`, when present, is the list of `tenant` claim values accepted from this issuer.
 */

/** A public signing key: RSA or EC only (no symmetric `oct`), with a kid (CDS Hooks: kid is REQUIRED). */
const PublicJwkSchema = Type.Object(
  {
    kty: Type.Union([Type.Literal('RSA'), Type.Literal('EC')]),
    kid: Type.String({ minLength: 1, maxLength: 256 }),
    alg: Type.Optional(Type.String({ pattern: '^(RS|PS|ES)(256|384|512)$' })),
    use: Type.Optional(Type.Literal('sig')),
  },
  { additionalProperties: true },
);

export const TrustedIssuerSchema = Type.Object(
  {
    iss: Type.String({ minLength: 1, maxLength: 2048 }),
    jwks_uri: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 })),
    jwks: Type.Optional(Type.Object({ keys: Type.Array(PublicJwkSchema, { minItems: 1, maxItems: 100 }) }, { additionalProperties: false })),
    /**
     * The `tenant` claim values accepted. Absent: tokens must carry no tenant (an issuer cannot
     * mint per-tenant identities, e.g. to escape its rate limit); "any" accepts any tenant, explicitly.
     */
    tenants: Type.Optional(
      Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, uniqueItems: true }), Type.Literal('any')]),
    ),
    /** Free text for the people who maintain the file ("Epic PROD", "development only"). */
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  // Unknown fields are typos ("jwksUri", "tenant") that would silently weaken a check: refuse them.
  { additionalProperties: false, anyOf: [{ required: ['jwks_uri'] }, { required: ['jwks'] }] },
);
export type TrustedIssuerEntry = Static<typeof TrustedIssuerSchema>;

export const TrustedIssuersFileSchema = Type.Array(TrustedIssuerSchema, { minItems: 1, maxItems: 1000 });

/** One allow-listed issuer, normalized for the verifier. */
export interface TrustedIssuer {
  iss: string;
  /** Normalized URL (URL.href): fetched only when `jwks` is absent; the only accepted `jku`. */
  jwksUri: string | undefined;
  jwks: JSONWebKeySet | undefined;
  /** Accepted tenant claims; undefined = a token naming a tenant is refused; 'any' = any tenant (explicit opt-in). */
  tenants: ReadonlySet<string> | 'any' | undefined;
}

/** The public CDS Hooks sandbox: its private key is published, so a token "from" it proves nothing. */
const PUBLIC_SANDBOX_ISSUER = 'https://sandbox.cds-hooks.org';
const PUBLISHED_KEY_X = new Set(['dw_JGR8nB2I6XveNxUOl2qk699ZPLM2nYI5STSdiEl9avAkrm3CkfYMbrrjr8laB']);

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const validateFile = createAjv().compile<TrustedIssuerEntry[]>(TrustedIssuersFileSchema);

/**
 * Checks an already-parsed issuer list. Every problem is a TypeError naming the source and entry:
 * a bad trust configuration must stop start-up, never be skipped.
 */
export function parseTrustedIssuers(value: unknown, source: string, options: { production: boolean }): TrustedIssuer[] {
  const where = `[auth] ${source}`;
  if (!validateFile(value)) {
    const problems = summarizeErrors(validateFile.errors).map((e) => `${e.field} ${e.message}`);
    throw new TypeError(`${where}: invalid trusted issuer list: ${problems.join('; ')}`);
  }
  const seen = new Set<string>();
  return value.map((entry, index) => {
    const at = `${where}[${index}] (${entry.iss})`;
    if (seen.has(entry.iss)) throw new TypeError(`${at}: issuer listed twice`);
    seen.add(entry.iss);

    let jwksUri: string | undefined;
    if (entry.jwks_uri) {
      const url = new URL(entry.jwks_uri);
      // Keys fetched over plain HTTP could be swapped in transit; only a loopback sidecar is exempt.
      if (url.protocol !== 'https:' && !LOOPBACK_HOSTS.has(url.hostname)) throw new TypeError(`${at}: jwks_uri must use https`);
      if (url.username || url.password) throw new TypeError(`${at}: jwks_uri must not carry credentials`);
      jwksUri = url.href;
    }
    if (entry.jwks) {
      const kids = new Set<string>();
      for (const key of entry.jwks.keys) {
        const leaked = PRIVATE_MEMBERS.filter((member) => member in key);
        if (leaked.length > 0) throw new TypeError(`${at}: key ${key.kid} contains private key material (${leaked.join(', ')}); list public keys only`);
        if (kids.has(key.kid)) throw new TypeError(`${at}: kid ${key.kid} appears twice`);
        kids.add(key.kid);
      }
    }
    if (options.production) {
      const publishedKey = entry.jwks?.keys.some((key) => PUBLISHED_KEY_X.has(String((key as { x?: unknown }).x)));
      if (entry.iss.replace(/\/+$/, '') === PUBLIC_SANDBOX_ISSUER || publishedKey) {
        throw new TypeError(`${at}: trusts the public CDS Hooks sandbox, whose private key is published; refused with NODE_ENV=production`);
      }
    }
    return {
      iss: entry.iss,
      jwksUri,
      jwks: entry.jwks ? ({ keys: entry.jwks.keys } as unknown as JSONWebKeySet) : undefined,
      tenants: entry.tenants === 'any' ? 'any' : entry.tenants ? new Set(entry.tenants) : undefined,
    };
  });
}

/** Reads CDS_TRUSTED_ISSUERS. A missing, unreadable or invalid file stops start-up. */
export function loadTrustedIssuers(path: string, options: { production: boolean }): TrustedIssuer[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TypeError(`[auth] CDS_TRUSTED_ISSUERS: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TypeError(`[auth] ${path}: not valid JSON`);
  }
  return parseTrustedIssuers(parsed, path, options);
}
