import { createLocalJWKSet, errors, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters, type KeyLike } from 'jose';

/** What jwtVerify calls to find the key for a token (by kid and alg). */
export type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<KeyLike>;

export type JwksFailure = 'timeout' | 'network' | 'http-error' | 'too-large' | 'invalid' | 'cooling-down';

/** The issuer's JWK Set could not be obtained: the token cannot be checked, so it is refused. */
export class JwksUnavailableError extends Error {
  readonly code = 'ERR_CDS_JWKS_UNAVAILABLE';
  constructor(readonly reason: JwksFailure) {
    super(`JWKS unavailable: ${reason}`);
    this.name = 'JwksUnavailableError';
  }
}

export interface RemoteKeySetOptions {
  /** Deadline for one fetch, connection to last byte. */
  timeoutMs: number;
  /** Least time between two fetches of this set (after success or failure): an unknown kid cannot make us hammer the EHR. */
  cooldownMs: number;
  /** Keys older than this are fetched again before use. */
  maxAgeMs: number;
  /** Largest JWK Set accepted. */
  maxBytes: number;
  fetch?: typeof fetch;
  /** Monotonic milliseconds; the cache runs on real time even when tests freeze the JWT clock. */
  clock?: () => number;
}

/**
 * One issuer's JWK Set, fetched only from its allow-listed URL, cached, and refreshed when it is old
 * or when a token names a kid it does not contain (key rotation) — at most once per cooldown.
 * Written here rather than with jose's createRemoteJWKSet because that one bounds neither the time
 * spent reading the body nor its size, and retries a failing URL on every request.
 */
export class RemoteKeySet {
  private keys: ReturnType<typeof createLocalJWKSet> | undefined;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<void> | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly clock: () => number;
  /** Fetches started (for tests and metrics). */
  fetches = 0;

  constructor(
    readonly url: string,
    private readonly options: RemoteKeySetOptions,
  ) {
    for (const name of ['timeoutMs', 'cooldownMs', 'maxAgeMs', 'maxBytes'] as const) {
      if (!Number.isFinite(options[name]) || options[name] < 0) throw new TypeError(`[auth] JWKS option ${name} must be a non-negative number`);
    }
    this.fetchImpl = options.fetch ?? fetch;
    this.clock = options.clock ?? (() => performance.now());
  }

  readonly resolve: KeyResolver = async (header, token) => {
    if (!this.keys || this.clock() - this.fetchedAt >= this.options.maxAgeMs) await this.refresh();
    try {
      return await this.keys!(header, token);
    } catch (error) {
      // A kid we do not know: the client may have rotated its keys. Look again, unless we just did.
      if (error instanceof errors.JWKSNoMatchingKey && !this.coolingDown()) {
        await this.refresh();
        return this.keys!(header, token);
      }
      throw error;
    }
  };

  private coolingDown(): boolean {
    return this.clock() - this.attemptedAt < this.options.cooldownMs;
  }

  private refresh(): Promise<void> {
    // Concurrent requests share one fetch.
    this.pending ??= this.load().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async load(): Promise<void> {
    if (this.coolingDown()) throw new JwksUnavailableError('cooling-down');
    this.attemptedAt = this.clock();
    this.fetches += 1;
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let response: Response;
    try {
      response = await this.fetchImpl(this.url, { signal, redirect: 'error', headers: { accept: 'application/json, application/jwk-set+json' } });
    } catch {
      throw new JwksUnavailableError(signal.aborted ? 'timeout' : 'network');
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new JwksUnavailableError('http-error');
    }
    const text = await this.readBody(response, signal);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new JwksUnavailableError('invalid');
    }
    try {
      this.keys = createLocalJWKSet(parsed as JSONWebKeySet);
    } catch {
      throw new JwksUnavailableError('invalid');
    }
    this.fetchedAt = this.clock();
  }

  private async readBody(response: Response, signal: AbortSignal): Promise<string> {
    if (!response.body) return '';
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > this.options.maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw new JwksUnavailableError('too-large');
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof JwksUnavailableError) throw error;
      throw new JwksUnavailableError(signal.aborted ? 'timeout' : 'network');
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

/** Keys pinned in the issuer file: nothing is fetched. */
export function inlineKeyResolver(jwks: JSONWebKeySet): KeyResolver {
  return createLocalJWKSet(jwks);
}
