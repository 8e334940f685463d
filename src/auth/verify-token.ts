import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { ServiceUnavailableError, UnauthorizedError } from '../errors';
import { inlineKeyResolver, JwksUnavailableError, RemoteKeySet, type KeyResolver } from './key-sets';
import type { ReplayCache } from './replay-cache';
import type { TrustedIssuer } from './trusted-issuers';

/**
 * CDS Hooks 2.0 §Trusting CDS Clients / §JWT Signing Algorithm: asymmetric algorithms only (ES384 and
 * RS384 are RECOMMENDED); `none` and every HMAC algorithm are refused.
 */
const ALLOWED_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;

/** Why a token was refused: logged (never sent to the client, which always gets the same 401). */
export type AuthFailureReason =
  | 'missing-token'
  | 'not-bearer'
  | 'malformed'
  | 'alg-not-allowed'
  | 'missing-kid'
  | 'wrong-typ'
  | 'unknown-issuer'
  | 'jku-not-allowed'
  | 'unknown-kid'
  | 'bad-signature'
  | 'jwks-unavailable'
  | 'missing-claim'
  | 'invalid-claim'
  | 'wrong-audience'
  | 'expired'
  | 'too-old'
  | 'iat-in-future'
  | 'not-yet-valid'
  | 'tenant-not-allowed'
  | 'replayed'
  | 'invalid-token';

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

export class TokenRejectedError extends UnauthorizedError {
  constructor(
    override readonly reason: AuthFailureReason,
    /** The presented issuer, for the log (bounded; it is unverified when the token was refused). */
    readonly issuer?: string,
  ) {
    super(reason);
  }
}

/** Who called, once the token checked out. */
export interface VerifiedClient {
  issuer: string;
  tenant: string | undefined;
  jti: string;
}

export interface TokenVerifierOptions {
  issuers: readonly TrustedIssuer[];
  replayCache: ReplayCache;
  /** Epoch ms (injected so tests can freeze time). */
  now: () => number;
  clockSkewSeconds: number;
  /** Oldest `iat` accepted, and so the longest a jti must be remembered. */
  maxAgeSeconds: number;
  jwks: { timeoutMs: number; cooldownMs: number; maxAgeMs?: number; maxBytes?: number; fetch?: typeof fetch };
}

const MAX_TOKEN_LENGTH = 8192;
const REQUIRED_CLAIMS = ['iss', 'aud', 'exp', 'iat', 'jti'];

interface IssuerKeys {
  issuer: TrustedIssuer;
  resolve: KeyResolver;
  remote: RemoteKeySet | undefined;
}

/**
 * Verifies the `Authorization: Bearer <JWT>` of a CDS Hooks call against the issuer allow-list.
 * Order matters: cheap structural checks first, then the issuer (so unknown issuers never cause a key
 * fetch), then signature and claims, and the replay cache last (only genuine tokens are recorded).
 */
export class TokenVerifier {
  private readonly byIssuer = new Map<string, IssuerKeys>();

  constructor(private readonly options: TokenVerifierOptions) {
    if (options.issuers.length === 0) throw new TypeError('[auth] at least one trusted issuer is required');
    if (!Number.isFinite(options.clockSkewSeconds) || options.clockSkewSeconds < 0) throw new TypeError('[auth] clockSkewSeconds must be >= 0');
    if (!Number.isFinite(options.maxAgeSeconds) || options.maxAgeSeconds <= 0) throw new TypeError('[auth] maxAgeSeconds must be > 0');
    for (const issuer of options.issuers) {
      if (issuer.jwks) {
        this.byIssuer.set(issuer.iss, { issuer, resolve: inlineKeyResolver(issuer.jwks), remote: undefined });
      } else if (issuer.jwksUri) {
        const remote = new RemoteKeySet(issuer.jwksUri, {
          timeoutMs: options.jwks.timeoutMs,
          cooldownMs: options.jwks.cooldownMs,
          maxAgeMs: options.jwks.maxAgeMs ?? 600_000,
          maxBytes: options.jwks.maxBytes ?? 262_144,
          ...(options.jwks.fetch ? { fetch: options.jwks.fetch } : {}),
        });
        this.byIssuer.set(issuer.iss, { issuer, resolve: remote.resolve, remote });
      } else {
        throw new TypeError(`[auth] issuer ${issuer.iss} has neither jwks nor jwks_uri`);
      }
    }
  }

  /** JWKS fetches made for an issuer so far (tests, metrics). */
  jwksFetches(iss: string): number {
    return this.byIssuer.get(iss)?.remote?.fetches ?? 0;
  }

  /**
   * @param authorization the raw Authorization header
   * @param audience the URL being invoked: PUBLIC_BASE_URL + request path
   * @throws TokenRejectedError (401) for any bad or missing token; ServiceUnavailableError (503)
   *   when the replay cache cannot answer.
   */
  async verify(authorization: string | undefined, audience: string): Promise<VerifiedClient> {
    if (!authorization) throw new TokenRejectedError('missing-token');
    const match = /^Bearer +([^\s]+) *$/i.exec(authorization);
    if (!match) throw new TokenRejectedError('not-bearer');
    const token = match[1]!;
    if (token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) throw new TokenRejectedError('malformed');

    let header: ProtectedHeaderParameters;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      throw new TokenRejectedError('malformed');
    }
    const presentedIssuer = typeof unverified.iss === 'string' ? unverified.iss.slice(0, 200) : undefined;
    const reject = (reason: AuthFailureReason): never => {
      throw new TokenRejectedError(reason, presentedIssuer);
    };

    if (typeof header.alg !== 'string' || !(ALLOWED_ALGORITHMS as readonly string[]).includes(header.alg)) reject('alg-not-allowed');
    if (typeof header.kid !== 'string' || header.kid.length === 0) reject('missing-kid');
    // typ is REQUIRED to be "JWT"; tolerate its absence, refuse any other type (token confusion).
    if (header.typ !== undefined && !/^(application\/)?jwt$/i.test(String(header.typ))) reject('wrong-typ');
    if (typeof unverified.iss !== 'string') reject('missing-claim');

    const keys = this.byIssuer.get(unverified.iss!);
    if (!keys) return reject('unknown-issuer');
    // Only the allow-listed JWK Set URL is ever used; a token cannot point us at another.
    if (header.jku !== undefined && (typeof header.jku !== 'string' || normalizeUrl(header.jku) !== keys.issuer.jwksUri)) reject('jku-not-allowed');

    const nowMs = this.options.now();
    const skew = this.options.clockSkewSeconds;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys.resolve, {
        algorithms: [...ALLOWED_ALGORITHMS],
        issuer: keys.issuer.iss,
        audience,
        requiredClaims: REQUIRED_CLAIMS,
        clockTolerance: skew,
        maxTokenAge: this.options.maxAgeSeconds,
        currentDate: new Date(nowMs),
      }));
    } catch (error) {
      return reject(failureReason(error));
    }

    // Belt and braces beside jose: iat not in the future, jti a usable string, tenant a string when sent.
    const nowSeconds = nowMs / 1000;
    if (typeof payload.iat !== 'number' || payload.iat > nowSeconds + skew) reject('iat-in-future');
    // Control characters (NUL above all) cannot be stored by PostgreSQL: refused here as a bad token,
    // not left to fail the jti claim or the audit write later.
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256 || CONTROL_CHARACTER.test(payload.jti)) reject('invalid-claim');
    const tenant = payload.tenant;
    if (tenant !== undefined && (typeof tenant !== 'string' || tenant.length === 0 || tenant.length > 256 || CONTROL_CHARACTER.test(tenant))) reject('invalid-claim');
    const tenants = keys.issuer.tenants;
    if (tenants === undefined ? tenant !== undefined : tenants !== 'any' && (typeof tenant !== 'string' || !tenants.has(tenant))) reject('tenant-not-allowed');

    // Remember the jti until the token could no longer pass: min(exp, iat + max age) + skew.
    const lastValidSeconds = Math.min(payload.exp!, payload.iat! + this.options.maxAgeSeconds) + skew;
    let replayed: boolean;
    try {
      replayed = await this.options.replayCache.seen(payload.jti!, keys.issuer.iss, lastValidSeconds * 1000);
    } catch {
      throw new ServiceUnavailableError('Request could not be authenticated right now; retry later');
    }
    if (replayed) reject('replayed');
    return { issuer: keys.issuer.iss, tenant: tenant as string | undefined, jti: payload.jti! };
  }
}

function normalizeUrl(value: string): string | undefined {
  try {
    return new URL(value).href;
  } catch {
    return undefined;
  }
}

/** jose's error codes → our reasons. Anything unexpected is still a refusal, never a crash. */
function failureReason(error: unknown): AuthFailureReason {
  if (error instanceof JwksUnavailableError) return 'jwks-unavailable';
  if (error instanceof errors.JWTExpired) return error.claim === 'iat' ? 'too-old' : 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return 'missing-claim';
    switch (error.claim) {
      case 'aud':
        return 'wrong-audience';
      case 'nbf':
        return error.reason === 'check_failed' ? 'not-yet-valid' : 'invalid-claim';
      case 'iat':
        return error.reason === 'check_failed' ? 'iat-in-future' : 'invalid-claim';
      case 'iss':
        return 'unknown-issuer';
      default:
        return 'invalid-claim';
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad-signature';
  if (error instanceof errors.JWKSNoMatchingKey) return 'unknown-kid';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'alg-not-allowed';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'malformed';
  return 'invalid-token';
}
