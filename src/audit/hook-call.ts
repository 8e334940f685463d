import { randomUUID } from 'node:crypto';
import type { HookOutcome } from '../engine/run-hook';
import type { ClientRef, HookCallRecord } from '../store/store';
import type { PatientHasher } from './patient-hash';

/** What the hook route reports after answering a call (in memory only; the patient id never leaves it in clear). */
export interface HookCall {
  serviceId: string;
  hook: string;
  hookInstance: string;
  patientId: string;
  calledAt: number;
  outcome: HookOutcome;
  /** The verified caller ('' issuer and tenant when CDS_AUTH=off): feedback is accepted only from it. */
  client: ClientRef;
}

/** Receives every answered hook call. Must not throw and must not wait: it runs on the hook path. */
export interface HookCallObserver {
  (call: HookCall): void;
}

/**
 * The audit row of a call: ids, rule ids, card and suggestion uuids, indicators and the keyed patient
 * hash — never names, resource contents, context or tokens.
 */
export function hookCallRecord(call: HookCall, hasher: PatientHasher, callId: string = randomUUID()): HookCallRecord {
  return {
    callId,
    hookInstance: call.hookInstance,
    serviceId: call.serviceId,
    hook: call.hook,
    calledAt: call.calledAt,
    patientHash: hasher.hash(call.patientId),
    triggered: call.outcome.triggered,
    ruleIds: call.outcome.ruleIds,
    cards: call.outcome.cards.map((card) => ({
      cardUuid: card.uuid.toLowerCase(),
      ruleId: card.source.topic?.code ?? 'unknown',
      indicator: card.indicator,
      suggestionUuids: (card.suggestions ?? []).map((s) => s.uuid.toLowerCase()),
    })),
    client: call.client,
  };
}
