import type { Store } from '../../src/store/store';

/**
 * A real store behind a switch: while `down`, every operation fails the way a lost database
 * connection does (ECONNREFUSED). For outage tests on the embedded adapter; the PostgreSQL outage
 * test cuts a real TCP connection instead (test/routes/store-outage.test.ts).
 */
export function flakyStore(inner: Store): Store & { down: boolean } {
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const wrapper = {
    down: false,
    dialect: inner.dialect,
  } as Store & { down: boolean };
  for (const name of ['migrate', 'ping', 'recordHookCalls', 'recordFeedback', 'issuedCards', 'feedbackSummary', 'claimJti', 'purge'] as const) {
    (wrapper as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      if (wrapper.down) throw refused();
      return (inner[name] as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
    };
  }
  wrapper.close = () => inner.close();
  return wrapper;
}
