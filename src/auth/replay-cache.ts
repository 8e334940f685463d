/**
 * JWT replay protection (CDS Hooks best practices: "keep a jti replay cache").
 *
 * Contract for every implementation (in-memory here; a shared, database-backed one lets several
 * replicas see each other's tokens):
 * - `seen(jti, issuer, expiresAt)` atomically checks and records the pair (issuer, jti).
 *   It resolves `false` the first time the pair is presented (and records it) and `true` on every
 *   later call while the record lives. jti values are only unique per issuer, so the pair is the key.
 * - `expiresAt` is epoch **milliseconds**: the moment after which the verifier would reject the
 *   token anyway (its exp, capped by the maximum token age, plus the clock skew). The record must be
 *   kept at least until then and may be forgotten after.
 * - It is called only for tokens that passed every other check (signature, issuer, audience, times),
 *   so an attacker cannot fill it with forged jtis.
 * - If it cannot answer (store down, full), it rejects (throws): the verifier then fails closed
 *   with 503, never accepting a token it could not check.
 */
export interface ReplayCache {
  seen(jti: string, issuer: string, expiresAt: number): Promise<boolean>;
}

export class ReplayCacheFullError extends Error {
  constructor() {
    super('replay cache is full');
    this.name = 'ReplayCacheFullError';
  }
}

export interface InMemoryReplayCacheOptions {
  /** Epoch ms; the verifier's (injectable) clock. */
  now: () => number;
  /** Records kept at most. When full of live records, new tokens are refused (fail closed). */
  maxEntries?: number;
}

/**
 * Default replay cache for one process. Bounded: expired records are dropped as time passes, and when
 * `maxEntries` live records exist the cache refuses rather than forget a live jti. With the default
 * 100 000 and a 5-minute token lifetime that is over 300 verified calls per second, sustained.
 */
export class InMemoryReplayCache implements ReplayCache {
  private readonly records = new Map<string, number>();
  private readonly maxEntries: number;

  constructor(private readonly options: InMemoryReplayCacheOptions) {
    this.maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new TypeError('[auth] replay cache maxEntries must be a positive integer');
  }

  get size(): number {
    return this.records.size;
  }

  async seen(jti: string, issuer: string, expiresAt: number): Promise<boolean> {
    const now = this.options.now();
    this.dropExpiredFromFront(now);
    // JSON keeps the pair unambiguous whatever characters the two strings contain.
    const key = JSON.stringify([issuer, jti]);
    const existing = this.records.get(key);
    if (existing !== undefined && existing > now) return true;
    if (existing === undefined && this.records.size >= this.maxEntries) {
      this.dropAllExpired(now);
      if (this.records.size >= this.maxEntries) throw new ReplayCacheFullError();
    }
    this.records.delete(key);
    this.records.set(key, expiresAt);
    return false;
  }

  /** Records are mostly inserted in expiry order: trimming the front is cheap and usually enough. */
  private dropExpiredFromFront(now: number): void {
    for (const [key, expiresAt] of this.records) {
      if (expiresAt > now) return;
      this.records.delete(key);
    }
  }

  private dropAllExpired(now: number): void {
    for (const [key, expiresAt] of this.records) if (expiresAt <= now) this.records.delete(key);
  }
}
