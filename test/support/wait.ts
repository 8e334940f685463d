import { setTimeout as delay } from 'node:timers/promises';

/**
 * Probes a condition that no event announces (another process's state, a sampler's last reading)
 * until `done` holds or `boundMs` has passed, and returns the last value for the caller to assert.
 * The bound is generous so that a loaded machine never fails a test by timing; where an event
 * exists, wait for the event itself instead.
 */
export async function eventually<T>(probe: () => Promise<T> | T, done: (value: T) => boolean, { boundMs = 10_000, everyMs = 20 } = {}): Promise<T> {
  const end = performance.now() + boundMs;
  for (;;) {
    const value = await probe();
    if (done(value) || performance.now() >= end) return value;
    await delay(everyMs);
  }
}
