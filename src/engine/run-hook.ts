import type { FhirClient } from '../fhir/fhir-client';
import type { Catalog, CompiledService } from '../knowledge/types';
import type { Card } from '../schemas/cds-response';
import { hookModuleFor } from '../cds-hooks/registry';
import type { HookRequest } from '../cds-hooks/hook-module';
import { buildCards } from './build-cards';
import { DRAFT_FACTS, draftFacts, type DraftContext } from '../clinical/zoledronic-acid-draft-facts';
import { findTriggeringDraft, unresolvedDraftMedications } from './draft-orders';
import { evaluateRules, type ConditionContext } from './evaluate-rules';
import { extractFacts } from './extract-facts';
import type { Fact } from '../schemas/facts';
import { deadlineFrom, fetchMedications, fhirAccessOf, indexMedication, resolveData, type Deadline, type KeySource } from './resolve-data';
import { medicationLookup, ResourceIndex, type AnyResource } from './resource-index';

export interface HookDeps {
  catalog: Catalog;
  fhirClient: FhirClient;
  /** Injected clock (epoch ms) and uuid source: the core stays deterministic under test. */
  now: () => number;
  uuid: () => string;
  /** One deadline for every FHIR call of the request. */
  fhirTimeoutMs: number;
  maxMedicationReads: number;
  /** Absolute URL of the SMART app's launch page, for the cards' smart links (none when unset). */
  appLaunchUrl?: string;
}

export interface HookOutcome {
  cards: Card[];
  /** For the request log and the audit trail: which rules fired, which were hidden, which lacked data. */
  ruleIds: string[];
  suppressed: { ruleId: string; by: string }[];
  undecided: string[];
  keys: Record<string, KeySource>;
  failures: Record<string, string>;
  fetchCount: number;
  triggered: boolean;
}

const EMPTY: Omit<HookOutcome, 'triggered'> = { cards: [], ruleIds: [], suppressed: [], undecided: [], keys: {}, failures: {}, fetchCount: 0 };

/**
 * Hooks with draft orders (the hook module says which drafts to consider): only a draft matching the
 * service's trigger code list triggers it; other orders cost no FHIR call beyond resolving the
 * drafts' own medicationReference. `triggered: false` when no draft triggers.
 */
async function triggeringDraft(
  service: CompiledService,
  request: HookRequest,
  deps: HookDeps,
  signal: Deadline,
  draftMedications: Map<string, AnyResource>,
): Promise<{ triggered: boolean; draft?: DraftContext }> {
  const considered = hookModuleFor(request.hook)?.draftOrdersToConsider?.(request);
  if (!considered) return { triggered: true };
  for (const entry of considered.entries) indexMedication(draftMedications, entry.resource, entry.fullUrl);
  const lookup = medicationLookup(draftMedications);
  const unresolved = unresolvedDraftMedications(considered.candidates, lookup);
  await fetchMedications(unresolved, draftMedications, deps.fhirClient, fhirAccessOf(request), signal, deps.maxMedicationReads);
  const draft = service.triggerMedication ? findTriggeringDraft(considered.candidates, service.triggerMedication, medicationLookup(draftMedications)) : undefined;
  return draft ? { triggered: true, draft } : { triggered: false };
}

/**
 * The only orchestrator: trigger check → resolve data (I/O edge) → extract facts → evaluate rules →
 * build cards. Everything after the data is pure.
 */
export async function runHook(service: CompiledService, request: HookRequest, deps: HookDeps): Promise<HookOutcome> {
  const { catalog } = deps;
  const now = deps.now();
  const signal = deadlineFrom(deps.fhirTimeoutMs);

  const draftMedications = new Map<string, AnyResource>();
  const { triggered, draft } = await triggeringDraft(service, request, deps, signal, draftMedications);
  if (!triggered) return { ...EMPTY, triggered: false };

  const data = await resolveData(service, request, deps.fhirClient, signal, {
    maxMedicationReads: deps.maxMedicationReads,
    extraMedications: draftMedications,
  });
  const index = new ResourceIndex(data.resources, catalog.codeSystems, medicationLookup(data.medications));
  const facts: Record<string, Fact> = extractFacts(catalog, { index, patient: data.patient, unavailable: data.unavailable, now });
  if (draft) Object.assign(facts, draftFacts(draft, facts, catalog.units, DRAFT_FACTS));

  const conditions: ConditionContext = { facts, conditions: catalog.conditions, now };
  const evaluation = evaluateRules(service.ruleSet, conditions);
  const cards = buildCards(evaluation.matches, {
    catalog,
    ruleSet: service.ruleSet,
    scope: {
      facts,
      settings: catalog.settings,
      context: {
        patientId: request.context.patientId,
        userId: request.context.userId,
        ...(request.context.encounterId ? { encounterId: request.context.encounterId } : {}),
      },
      now,
      ...(draft ? { draftReference: draft.draftReference } : {}),
    },
    conditions,
    dataGaps: data.gaps,
    notes:
      draft?.matchedBy === 'name' && service.triggerMedication
        ? [`_The ordered drug was recognised as ${service.triggerMedication.drugName} by its name ("${draft.matchedText}"): check the order._`]
        : [],
    draft: draft?.draft,
    uuid: deps.uuid,
    ...(deps.appLaunchUrl ? { appLaunchUrl: deps.appLaunchUrl } : {}),
  });
  return {
    cards,
    ruleIds: evaluation.matches.map((m) => m.rule.id),
    suppressed: evaluation.suppressed,
    undecided: evaluation.undecided,
    keys: data.keys,
    failures: data.failures,
    fetchCount: data.fetchCount,
    triggered: true,
  };
}
