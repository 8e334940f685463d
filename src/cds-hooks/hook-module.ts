import type { TSchema } from '@sinclair/typebox';

/**
 * Everything the service knows about one CDS hook, in one place: validation, the knowledge loader
 * (prefetch tokens, trigger) and discovery read it from here. Adding a hook is a module like
 * patient-view.ts registered in registry.ts (or with registerHookModule) plus a hooks/*.yaml service.
 */
export interface HookModule {
  /** The hook's name as CDS clients send it ('patient-view'). */
  readonly name: string;
  /** The whole CDS Hooks request for this hook, context included (the hook library's context table). */
  readonly requestSchema: TSchema;
  /** Prefetch tokens a service for this hook may use (CDS Hooks 2.0 §Prefetch tokens). */
  readonly contextTokens: readonly string[];
  /** Order hooks carry draft orders: their services need a trigger medication code list. */
  readonly draftOrders: boolean;
  /** Checks the schema cannot express; throws a RequestInvalidError naming the field. */
  checkRequest?(request: unknown): void;
}
