import type { Store } from '../store/store';
import { ReplayCacheFullError, type ReplayCache } from './replay-cache';

export interface StoreReplayCacheOptions {
  now?: () => number;
  /** How long a call waits for the database's answer before it is refused with a retryable 503. */
  timeoutMs?: number;
  /** jtis remembered in this replica's memory; when full of live ones, new tokens are refused. */
  maxLocalEntries?: number;
  /** Told when the database could not answer in time (the call was refused, not passed). */
  onUnavailable?: (error: unknown) => void;
}

/** The database did not answer the jti claim in time: the token is neither accepted nor marked seen. */
export class ReplayStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('replay cache: the store did not answer in time', { cause });
    this.name = 'ReplayStoreUnavailableError';
  }
}

/**
 * jti replay cache shared by every replica through the store: the claim is one atomic
 * INSERT … ON CONFLICT statement, so a token replayed to another replica is caught.
 *
 * It fails closed (ReplayCache contract, docs/security.md): when the store cannot answer within
 * `timeoutMs` the call is refused with a retryable 503 — never accepted unchecked, since a token
 * checked only against this replica's memory can be replayed to every other replica. The claim
 * runs on the store's priority lane (its own PostgreSQL connections; ahead of queued SQLite
 * writes), so feedback or audit load does not make it late.
 *
 * jtis the store has confirmed are also kept in this replica's memory, which answers same-replica
 * replays without a round trip. That memory is bounded: full of live entries, it refuses new
 * tokens rather than forget one.
 */
export class StoreReplayCache implements ReplayCache {
  private readonly local = new Map<string, number>();
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly maxLocalEntries: number;

  constructor(
    private readonly store: Pick<Store, 'claimJti'>,
    private readonly options: StoreReplayCacheOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.maxLocalEntries = options.maxLocalEntries ?? 100_000;
  }

  get size(): number {
    return this.local.size;
  }

  async seen(jti: string, issuer: string, expiresAt: number): Promise<boolean> {
    const now = this.now();
    const key = `${issuer}\u0000${jti}`;
    const known = this.local.get(key);
    if (known !== undefined && known > now) return true;
    this.makeRoom(now);
    let timer: NodeJS.Timeout | undefined;
    let claimed: boolean;
    try {
      claimed = await Promise.race([
        this.store.claimJti(issuer, jti, expiresAt, now),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer from the store within ${this.timeoutMs} ms`)), this.timeoutMs);
          timer.unref();
        }),
      ]);
    } catch (error) {
      this.options.onUnavailable?.(error);
      throw new ReplayStoreUnavailableError(error);
    } finally {
      if (timer) clearTimeout(timer);
    }
    // Remembered only once the store has answered: a refused (503) call may be retried with the same token.
    this.local.delete(key);
    this.local.set(key, expiresAt);
    return !claimed;
  }

  /** Drops expired entries when full; still full of live entries → refuse (fail closed). */
  private makeRoom(now: number): void {
    if (this.local.size < this.maxLocalEntries) return;
    for (const [k, exp] of this.local) if (exp <= now) this.local.delete(k);
    if (this.local.size >= this.maxLocalEntries) throw new ReplayCacheFullError();
  }
}
