import { AuditQueue } from '../../src/audit/audit-queue';

/** A write target that can be switched off, recording what it stored. */
function target() {
  const written: number[][] = [];
  const state = { down: false };
  return {
    written,
    state,
    write: async (batch: number[]) => {
      if (state.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      written.push([...batch]);
    },
  };
}

test('records are written in order, in batches, after enqueue returns', async () => {
  const t = target();
  const queue = new AuditQueue<number>({ write: t.write, maxSize: 100, batchSize: 2 });
  queue.enqueue(1);
  queue.enqueue(2);
  queue.enqueue(3);
  expect(t.written).toEqual([]); // nothing happens on the caller's turn
  expect(await queue.drain()).toBe(true);
  expect(t.written.flat()).toEqual([1, 2, 3]);
  expect(t.written.every((b) => b.length <= 2)).toBe(true);
  expect(queue.state()).toEqual({ depth: 0, dropped: 0, failing: false, consecutiveFailures: 0 });
  queue.close();
});

test('while the store is down records are kept (bounded: oldest dropped and counted), then written in order', async () => {
  const t = target();
  const drops: number[] = [];
  const errors: number[] = [];
  const queue = new AuditQueue<number>({
    write: t.write,
    maxSize: 3,
    baseDelayMs: 60_000, // no background retry during the test: drain() drives it
    onDrop: (n) => drops.push(n),
    onError: (_e, failures) => errors.push(failures),
  });
  t.state.down = true;
  queue.enqueue(1);
  expect(await queue.drain()).toBe(false);
  queue.enqueue(2);
  queue.enqueue(3);
  queue.enqueue(4);
  queue.enqueue(5);
  expect(queue.state()).toEqual({ depth: 3, dropped: 2, failing: true, consecutiveFailures: 1 });
  expect(drops).toEqual([1, 1]);
  expect(await queue.drain()).toBe(false);
  expect(errors).toEqual([1, 2]);
  t.state.down = false;
  expect(await queue.drain()).toBe(true);
  expect(t.written.flat()).toEqual([3, 4, 5]);
  expect(queue.state()).toEqual({ depth: 0, dropped: 2, failing: false, consecutiveFailures: 0 });
  queue.close();
});

test('the background retry writes the held records once the store is back', async () => {
  const t = target();
  let recovered!: () => void;
  const done = new Promise<void>((resolve) => {
    recovered = resolve;
  });
  let failed!: () => void;
  const firstFailure = new Promise<void>((resolve) => {
    failed = resolve;
  });
  const queue = new AuditQueue<number>({
    write: t.write,
    maxSize: 10,
    baseDelayMs: 5,
    maxDelayMs: 20,
    onError: () => failed(),
    onRecovered: () => recovered(),
  });
  t.state.down = true;
  queue.enqueue(1);
  queue.enqueue(2);
  // Waits for the write to have failed (the event itself), not for a guessed time.
  await firstFailure;
  expect(queue.state().failing).toBe(true);
  t.state.down = false;
  await done;
  expect(t.written.flat()).toEqual([1, 2]);
  queue.close();
});

test('a bad size is refused at construction', () => {
  expect(() => new AuditQueue<number>({ write: async () => undefined, maxSize: 0 })).toThrow(TypeError);
});
