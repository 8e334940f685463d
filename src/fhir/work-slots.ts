/**
 * A process-wide cap on expensive work (inflating and parsing FHIR answers): at most `size` holders
 * at once, later callers wait in order. Waiting honours the caller's deadline, so a queued query
 * ends when its hook call's deadline does, not when a slot frees up.
 */
export class WorkSlots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new TypeError('[fhir] work slots must be a positive integer');
  }

  /** Resolves with a release function once a slot is free; rejects with the signal's reason if it fires first. */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.active < this.size) {
      this.active += 1;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        this.active += 1;
        resolve(this.releaser());
      };
      const onAbort = () => {
        const at = this.waiting.indexOf(grant);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      this.waiting.shift()?.();
    };
  }
}

/**
 * Bytes one hook call may still read across all of its FHIR queries. Grants are taken before the
 * work they pay for, so parallel queries never overdraw it together.
 */
export class ByteBudget {
  constructor(private left: number) {}

  get remaining(): number {
    return this.left;
  }

  /** Takes exactly `bytes`, or nothing (false) when they do not fit. */
  take(bytes: number): boolean {
    if (bytes > this.left) return false;
    this.left -= bytes;
    return true;
  }

  /** Takes up to `bytes` (as much as is left) and says how much was granted. */
  grantUpTo(bytes: number): number {
    const granted = Math.max(0, Math.min(bytes, this.left));
    this.left -= granted;
    return granted;
  }

  refund(bytes: number): void {
    this.left += Math.max(0, bytes);
  }
}
