import type { Store } from './store';

export interface StoreObserver {
  onSuccess(operation: string): void;
  onError(operation: string, error: unknown): void;
}

type Operation = Exclude<keyof Store, 'dialect'>;
const OPERATIONS: readonly Operation[] = ['migrate', 'ping', 'recordHookCalls', 'recordFeedback', 'feedbackSummary', 'claimJti', 'purge', 'close'];

/** The same store, with every operation's success or failure reported (health, metrics, logs). */
export function observedStore(store: Store, observer: StoreObserver): Store {
  const wrapped = { dialect: store.dialect } as Store;
  for (const operation of OPERATIONS) {
    const method = (store[operation] as (...args: unknown[]) => Promise<unknown>).bind(store);
    (wrapped as unknown as Record<string, unknown>)[operation] = async (...args: unknown[]) => {
      try {
        const result = await method(...args);
        observer.onSuccess(operation);
        return result;
      } catch (error) {
        observer.onError(operation, error);
        throw error;
      }
    };
  }
  return wrapped;
}
