import { InMemoryReplayCache, ReplayCacheFullError } from '../../src/auth/replay-cache';

describe('in-memory jti replay cache', () => {
  let now = 1_000_000;
  const clock = () => now;

  test('first sight records, second sight within the lifetime is a replay', async () => {
    const cache = new InMemoryReplayCache({ now: clock });
    expect(await cache.seen('jti-1', 'https://ehr-a', now + 60_000)).toBe(false);
    expect(await cache.seen('jti-1', 'https://ehr-a', now + 60_000)).toBe(true);
  });

  test('jti values are scoped by issuer, and the pair cannot be forged by concatenation', async () => {
    const cache = new InMemoryReplayCache({ now: clock });
    expect(await cache.seen('x', 'https://ehr-a', now + 60_000)).toBe(false);
    expect(await cache.seen('x', 'https://ehr-b', now + 60_000)).toBe(false);
    expect(await cache.seen('b|c', 'a', now + 60_000)).toBe(false);
    expect(await cache.seen('c', 'a|b', now + 60_000)).toBe(false);
  });

  test('records are forgotten once the token could no longer be accepted anyway', async () => {
    const cache = new InMemoryReplayCache({ now: clock });
    await cache.seen('old', 'iss', now + 1000);
    now += 1001;
    expect(cache.size).toBe(1);
    expect(await cache.seen('new', 'iss', now + 1000)).toBe(false);
    expect(cache.size).toBe(1);
  });

  test('bounded: when full of live records it refuses (fail closed) instead of forgetting one', async () => {
    const cache = new InMemoryReplayCache({ now: clock, maxEntries: 3 });
    for (const jti of ['a', 'b', 'c']) await cache.seen(jti, 'iss', now + 60_000);
    await expect(cache.seen('d', 'iss', now + 60_000)).rejects.toBeInstanceOf(ReplayCacheFullError);
    // Known jtis are still answered.
    expect(await cache.seen('a', 'iss', now + 60_000)).toBe(true);
    now += 60_001;
    expect(await cache.seen('d', 'iss', now + 60_000)).toBe(false);
  });
});
