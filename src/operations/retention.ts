import type { PurgeResult, Store } from '../store/store';

export interface RetentionOptions {
  store: Pick<Store, 'purge'>;
  /** Audit rows and feedback older than this are deleted; undefined keeps them (expired jti claims are always purged). */
  retentionDays: number | undefined;
  /** Feedback older than this is deleted even when audit rows are kept (the shorter period wins). */
  feedbackRetentionDays?: number;
  now: () => number;
  intervalMs?: number;
  onPurged?: (result: PurgeResult) => void;
  onError?: (error: unknown) => void;
}

const DEFAULT_PURGE_INTERVAL_MS = 10 * 60_000;

/** The cutoff for "older than N days" at `now` (epoch ms), or undefined when retention is off. */
export function retentionCutoff(now: number, retentionDays: number | undefined): number | undefined {
  return retentionDays === undefined ? undefined : now - retentionDays * 86_400_000;
}

/**
 * Periodic purge: at start-up and every interval (an unref'd timer: it never keeps the process
 * alive). Every replica runs it; DELETE … WHERE older-than is idempotent, so overlap is harmless.
 */
export class RetentionSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PurgeResult | undefined> | undefined;

  constructor(private readonly options: RetentionOptions) {}

  runOnce(): Promise<PurgeResult | undefined> {
    this.running ??= this.options.store
      .purge(retentionCutoff(this.options.now(), this.options.retentionDays), this.options.now(), retentionCutoff(this.options.now(), this.options.feedbackRetentionDays))
      .then((result) => {
        this.options.onPurged?.(result);
        return result;
      })
      .catch((error: unknown) => {
        this.options.onError?.(error);
        return undefined;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  start(): void {
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.options.intervalMs ?? DEFAULT_PURGE_INTERVAL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
