import type { TSchema } from '@sinclair/typebox';
import type { FhirAuthorization } from '../schemas/cds-request';
import type { AnyResource } from '../schemas/fhir-resource';

/**
 * What the engine reads of any hook's request, once the hook module's schema has validated it: the
 * fields every CDS Hooks 2.0 request shares and a context with at least the patient and the user.
 * A new hook's request fits it without editing a union of hooks.
 */
export interface HookRequest {
  hook: string;
  hookInstance: string;
  fhirServer?: string;
  fhirAuthorization?: FhirAuthorization;
  prefetch?: Record<string, { resourceType: string; [key: string]: unknown } | null>;
  context: HookContext;
}

export interface HookContext {
  patientId: string;
  userId: string;
  encounterId?: string;
  [field: string]: unknown;
}

/** The draft orders of an order hook's request: every Bundle entry, and the drafts the service is asked about. */
export interface DraftOrders {
  entries: { resource: AnyResource; fullUrl: string | undefined }[];
  /** The orders to consider (order-select: the selected ones; order-sign: all of them). */
  candidates: AnyResource[];
}

/** What the CLI and the clinical scenarios know when they build a request for a hook. */
export interface ContextInput {
  patientId: string;
  userId: string;
  /** Draft orders, for hooks that carry them. */
  draftOrders?: readonly AnyResource[];
  /** Selected draft orders ("MedicationRequest/x"), for hooks that select; default: every order. */
  selections?: readonly string[];
}

/**
 * Everything the service knows about one CDS hook, in one place: validation, the knowledge loader
 * (prefetch tokens, trigger), discovery, the engine (draft orders) and the CLI read it from here.
 * Adding a hook is a module like patient-view.ts registered in registry.ts (or with
 * registerHookModule) plus a hooks/*.yaml service.
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
  /** For hooks with draft orders: the orders of a validated request and those to consider. */
  draftOrdersToConsider?(request: HookRequest): DraftOrders;
  /** A request context for this hook (CLI, scenarios); without it, the context is the patient and the user. */
  contextFor?(input: ContextInput): Record<string, unknown>;
}

/** The context a request for `module` carries, built from what the caller knows. */
export function requestContextFor(module: HookModule, input: ContextInput): Record<string, unknown> {
  return module.contextFor ? module.contextFor(input) : { userId: input.userId, patientId: input.patientId };
}
