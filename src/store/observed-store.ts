import { FeedbackQuotaExceededError, type Store } from './store';

export interface StoreObserver {
  onSuccess(operation: string): void;
  onError(operation: string, error: unknown): void;
}

type Operation = Exclude<keyof Store, 'dialect'>;
/** Every operation, checked by the compiler: a new Store method cannot be left unwrapped (and missing). */
const OPERATION_SET: Record<Operation, true> = {
  migrate: true,
  ping: true,
  recordHookCalls: true,
  recordFeedback: true,
  issuedCards: true,
  feedbackSummary: true,
  claimJti: true,
  purge: true,
  close: true,
};
const OPERATIONS = Object.keys(OPERATION_SET) as Operation[];

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
        // A client over its quota is an answer from a healthy store, not a store failure.
        if (error instanceof FeedbackQuotaExceededError) observer.onSuccess(operation);
        else observer.onError(operation, error);
        throw error;
      }
    };
  }
  return wrapped;
}
