/**
 * Bounded in-memory queue between hook responses and the store. A hook call only pushes a record
 * (never waits, never fails); a background flush writes batches, and when the store fails it keeps
 * the records and retries with exponential backoff. When full it drops the oldest record, counts it
 * and logs (the cards were already delivered: losing an audit row is bad, blocking clinicians worse).
 */
export interface AuditQueueOptions<T> {
  write: (batch: T[]) => Promise<void>;
  /** Most records held while the store is unreachable. */
  maxSize: number;
  batchSize?: number;
  /**
   * How long a new record waits for others before a write starts. Under load one transaction then
   * carries many calls instead of one each; the records are in memory meanwhile (as in an outage).
   */
  flushDelayMs?: number;
  /** First retry delay; doubles per consecutive failure up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  onDrop?: (dropped: number, totalDropped: number) => void;
  onError?: (error: unknown, consecutiveFailures: number) => void;
  onRecovered?: (failures: number) => void;
}

export interface AuditQueueState {
  depth: number;
  dropped: number;
  /** True while the last write attempt failed (the store is refusing writes). */
  failing: boolean;
  consecutiveFailures: number;
}

export class AuditQueue<T> {
  private queue: T[] = [];
  private dropped = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private looping = false;
  private readonly batchSize: number;
  private readonly flushDelayMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(private readonly options: AuditQueueOptions<T>) {
    if (!Number.isInteger(options.maxSize) || options.maxSize < 1) throw new TypeError('[audit] maxSize must be a positive integer');
    this.batchSize = options.batchSize ?? 50;
    this.flushDelayMs = options.flushDelayMs ?? 0;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
  }

  /** Never throws and never waits: called on the hook path. */
  enqueue(record: T): void {
    this.queue.push(record);
    this.enforceBound();
    if (this.failures === 0) this.schedule(this.flushDelayMs);
  }

  state(): AuditQueueState {
    return { depth: this.queue.length, dropped: this.dropped, failing: this.failures > 0, consecutiveFailures: this.failures };
  }

  /**
   * Writes everything queued now, ignoring the backoff; resolves true when the queue is empty and
   * false when a write failed. For shutdown and for tests; the service itself relies on the timer.
   */
  async drain(): Promise<boolean> {
    this.clearTimer();
    await this.flushing;
    while (this.queue.length > 0) {
      await this.flushOnce();
      if (this.failures > 0) {
        this.retryLater();
        return false;
      }
    }
    return true;
  }

  /** Stops the timer; whatever is still queued is kept in memory until drain() or process exit. */
  close(): void {
    this.closed = true;
    this.clearTimer();
  }

  private enforceBound(): void {
    const excess = this.queue.length - this.options.maxSize;
    if (excess <= 0) return;
    this.queue.splice(0, excess);
    this.dropped += excess;
    this.options.onDrop?.(excess, this.dropped);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.timer || this.flushing || this.looping) return;
    // A timer (not a microtask): the flush runs after the hook response has been written.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flushLoop();
    }, delayMs);
    this.timer.unref();
  }

  private async flushLoop(): Promise<void> {
    this.looping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        await this.flushOnce();
        if (this.failures > 0) break;
        // A synchronous store (SQLite) resolves without yielding: give pending requests a turn
        // between batches so a backlog after an outage never stalls the event loop for long.
        if (this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
        // A partial batch is what arrived meanwhile: wait for more rather than write it at once.
        if (this.queue.length > 0 && this.queue.length < this.batchSize) break;
      }
    } finally {
      this.looping = false;
    }
    if (this.failures > 0) this.retryLater();
    else if (this.queue.length > 0) this.schedule(this.flushDelayMs);
  }

  private retryLater(): void {
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (this.failures - 1));
    // Jitter, so replicas that lost the same database do not retry in step.
    this.schedule(delay * (0.75 + Math.random() * 0.5));
  }

  private flushOnce(): Promise<void> {
    if (this.flushing) return this.flushing;
    const batch = this.queue.splice(0, this.batchSize);
    if (batch.length === 0) return Promise.resolve();
    this.flushing = this.options
      .write(batch)
      .then(() => {
        if (this.failures > 0) this.options.onRecovered?.(this.failures);
        this.failures = 0;
      })
      .catch((error: unknown) => {
        // Back to the front, in order; then the bound applies (oldest dropped first).
        this.queue = batch.concat(this.queue);
        this.enforceBound();
        this.failures += 1;
        this.options.onError?.(error, this.failures);
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }
}
