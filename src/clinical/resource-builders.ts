import type { Facts } from '../schemas/facts';
import type { AnyResource } from '../schemas/fhir-resource';

export interface BuilderContext {
  draft: AnyResource | undefined;
  facts: Facts;
  settings: ReadonlyMap<string, unknown>;
  params: Readonly<Record<string, string | number>>;
  conditionHolds: (name: string) => boolean;
}

export interface ResourceBuilder {
  /** Params the builder needs (checked at start-up): name → what it names. */
  params: Readonly<Record<string, 'condition' | 'fact' | 'setting'>>;
  build(ctx: BuilderContext): AnyResource | undefined;
}

const UCUM = 'http://unitsofmeasure.org';

/**
 * The draft zoledronic acid order, corrected (OS-REGIMEN, OS-RENAL-ADJUST): the renal dose when
 * CrCl calls for one, otherwise the regimen dose; infusion over ≥ 15 min; every 6 months for the
 * adjuvant indication (a metastatic schedule is left as ordered). The 5 mg (Reclast-type) product is
 * replaced by the 4 mg product. Same id, so the suggestion is an `update` of the draft.
 */
const correctedZoledronicOrder: ResourceBuilder = {
  params: { adjuvantCondition: 'condition', renalDoseFact: 'fact', regimenDoseSetting: 'setting', productTemplate: 'setting', minInfusionSetting: 'setting' },
  build({ draft, facts, settings, params, conditionHolds }) {
    if (!draft || draft.resourceType !== 'MedicationRequest') return undefined;
    const corrected = structuredClone(draft) as AnyResource;
    const renalDose = facts[params.renalDoseFact as string]?.value;
    const doseMg = typeof renalDose === 'number' ? renalDose : (settings.get(params.regimenDoseSetting as string) as number);
    const minMinutes = settings.get(params.minInfusionSetting as string) as number;
    const adjuvant = conditionHolds(params.adjuvantCondition as string);
    const previous = Array.isArray(draft.dosageInstruction) ? (draft.dosageInstruction[0] as Record<string, unknown> | undefined) : undefined;
    const previousRepeat = ((previous?.timing as Record<string, unknown> | undefined)?.repeat ?? {}) as Record<string, unknown>;
    const repeat: Record<string, unknown> = adjuvant
      ? { frequency: 1, period: 6, periodUnit: 'mo' }
      : Object.fromEntries(Object.entries(previousRepeat).filter(([k]) => ['frequency', 'period', 'periodUnit', 'boundsPeriod', 'count'].includes(k)));
    repeat.duration = minMinutes;
    repeat.durationUnit = 'min';
    const schedule = adjuvant ? ' every 6 months' : '';
    corrected.dosageInstruction = [
      {
        text: `${doseMg} mg IV over at least ${minMinutes} minutes${schedule}`,
        timing: { repeat },
        route: { coding: [{ system: 'http://snomed.info/sct', code: '47625008', display: 'Intravenous route' }], text: 'IV' },
        doseAndRate: [{ doseQuantity: { value: doseMg, unit: 'mg', system: UCUM, code: 'mg' } }],
      },
    ];
    if (facts['draft.productMg']?.value === 5) {
      const product = settings.get(params.productTemplate as string);
      delete corrected.medicationReference;
      corrected.medicationCodeableConcept = structuredClone(product);
    }
    return corrected;
  },
};

export const RESOURCE_BUILDERS: Readonly<Record<string, ResourceBuilder>> = {
  'corrected-zoledronic-order': correctedZoledronicOrder,
};
