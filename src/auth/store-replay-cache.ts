import type { Store } from '../store/store';
import type { ReplayCache } from './replay-cache';

export interface StoreReplayCacheOptions {
  now?: () => number;
  /** How long a hook call waits for the database before falling back to this replica's memory. */
  timeoutMs?: number;
  /** Entries kept in this replica's memory (oldest evicted first). */
  maxLocalEntries?: number;
  /** Told when the database could not answer and the local memory decided instead. */
  onFallback?: (error: unknown) => void;
}

/**
 * jti replay cache shared by every replica through the store: the claim is one atomic
 * INSERT … ON CONFLICT statement, so a token replayed to another replica is caught.
 *
 * Deliberate exception to the ReplayCache "throw when you cannot answer" rule: during a database
 * outage this cache decides from local memory instead of failing every call closed, because hook
 * responses must keep flowing while the store is down (issue #5).
 *
 * Every jti is also remembered in this replica's memory, which answers same-replica replays without
 * a round trip and decides alone when the database is down or slow. Falling back (rather than
 * rejecting every call) keeps the service answering during a database outage; the cost is that a
 * replay to a *different* replica within the outage and the token's short lifetime goes unnoticed.
 * Fallbacks are counted (metrics) so operators see them.
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
    this.timeoutMs = options.timeoutMs ?? 500;
    this.maxLocalEntries = options.maxLocalEntries ?? 100_000;
  }

  async seen(jti: string, issuer: string, expiresAt: number): Promise<boolean> {
    const now = this.now();
    // ReplayCache contract: expiresAt is epoch milliseconds.
    const expiresAtMs = expiresAt;
    const key = `${issuer}\u0000${jti}`;
    const known = this.local.get(key);
    if (known !== undefined && known > now) return true;
    this.remember(key, expiresAtMs, now);
    let timer: NodeJS.Timeout | undefined;
    try {
      const claimed = await Promise.race([
        this.store.claimJti(issuer, jti, expiresAtMs, now),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`replay cache: no answer from the store within ${this.timeoutMs} ms`)), this.timeoutMs);
          timer.unref();
        }),
      ]);
      return !claimed;
    } catch (error) {
      this.options.onFallback?.(error);
      return false;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private remember(key: string, expiresAtMs: number, now: number): void {
    this.local.delete(key);
    this.local.set(key, expiresAtMs);
    if (this.local.size <= this.maxLocalEntries) return;
    // Drop expired entries first, then the oldest inserted.
    for (const [k, exp] of this.local) if (exp <= now) this.local.delete(k);
    while (this.local.size > this.maxLocalEntries) {
      const oldest = this.local.keys().next().value;
      if (oldest === undefined) break;
      this.local.delete(oldest);
    }
  }
}
