import { evaluateRules, type ConditionContext, type Evaluation } from '../../src/engine/evaluate-rules';
import { extractFacts } from '../../src/engine/extract-facts';
import type { Fact } from '../../src/schemas/facts';
import { medicationLookup, ResourceIndex } from '../../src/engine/resource-index';
import type { Catalog } from '../../src/knowledge/types';
import type { PatientChart } from './patient-chart';

export interface PatientEvaluation {
  now: number;
  facts: Record<string, Fact>;
  index: ResourceIndex;
  conditions: ConditionContext;
  /** Per rule set: the rules that fire, those hidden by a stronger one, those lacking data. */
  evaluations: Map<string, Evaluation>;
}

/**
 * The service's engine on the chart the app read: the same ResourceIndex, extractFacts and
 * evaluateRules as runHook, with the same compiled knowledge. (No draft order here: rules about an
 * order being written see those facts as unknown.)
 */
export function evaluatePatient(catalog: Catalog, chart: PatientChart, now: number): PatientEvaluation {
  const index = new ResourceIndex(chart.resources, catalog.codeSystems, medicationLookup(chart.medications));
  const facts = extractFacts(catalog, { index, patient: chart.patient, unavailable: chart.unavailable, now });
  const conditions: ConditionContext = { facts, conditions: catalog.conditions, now };
  const evaluations = new Map<string, Evaluation>();
  for (const ruleSet of catalog.ruleSets.values()) evaluations.set(ruleSet.id, evaluateRules(ruleSet, conditions));
  return { now, facts, index, conditions, evaluations };
}
