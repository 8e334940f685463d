import type { CodeList, Product } from '../fhir/codes';
import { codingsOf, textsOf } from '../fhir/codes';
import type { UnitConverter } from '../fhir/units';
import { numericValue } from '../fhir/units';
import type { CdsHookRequest, OrderSelectRequest, OrderSignRequest } from '../schemas/cds-request';
import type { Fact, Facts } from '../schemas/facts';
import { unknownFact } from '../schemas/facts';
import { conceptsOf, type AnyResource } from './resource-index';

type OrderRequest = OrderSelectRequest | OrderSignRequest;

export interface DraftContext {
  /** The draft order evaluated (first triggering one). */
  draft: AnyResource;
  draftReference: string;
  /** Every zoledronic acid draft in the session (order-sign may carry several). */
  triggeringCount: number;
  matchedBy: 'code' | 'name';
  matchedText: string;
  product: Product | undefined;
}

export function isOrderRequest(request: CdsHookRequest): request is OrderRequest {
  return request.hook === 'order-select' || request.hook === 'order-sign';
}

export interface DraftBundle {
  entries: { resource: AnyResource; fullUrl: string | undefined }[];
}

export function draftBundle(request: OrderRequest): DraftBundle {
  const entries = Array.isArray(request.context.draftOrders.entry) ? request.context.draftOrders.entry : [];
  return {
    entries: entries.map((e) => ({
      resource: e.resource as AnyResource,
      fullUrl: typeof (e as { fullUrl?: unknown }).fullUrl === "string" ? ((e as unknown as { fullUrl: string }).fullUrl) : undefined,
    })),
  };
}

/** Draft orders to consider: the selected ones for order-select, all of them for order-sign. */
export function candidateDrafts(request: OrderRequest, bundle: DraftBundle): AnyResource[] {
  const orders = bundle.entries.map((e) => e.resource).filter((r) => r.resourceType !== 'Medication');
  if (request.hook === 'order-sign') return orders;
  const selected = new Set(request.context.selections);
  return orders.filter((r) => r.id !== undefined && selected.has(`${r.resourceType}/${r.id}`));
}

/** medicationReference targets not contained in the draft itself nor present in the Bundle. */
export function unresolvedDraftMedications(drafts: readonly AnyResource[], lookup: (r: AnyResource) => AnyResource | undefined): string[] {
  const out = new Set<string>();
  for (const draft of drafts) {
    const ref = (draft.medicationReference as { reference?: unknown } | undefined)?.reference;
    if (typeof ref !== 'string' || lookup(draft)) continue;
    const relative = /(?:^|\/)(Medication\/[A-Za-z0-9\-.]{1,64})$/.exec(ref)?.[1];
    if (relative) out.add(relative);
  }
  return [...out];
}

/** Finds the zoledronic acid draft(s) that trigger the order service; undefined when none does. */
export function findTriggeringDraft(
  drafts: readonly AnyResource[],
  trigger: CodeList,
  lookup: (r: AnyResource) => AnyResource | undefined,
): DraftContext | undefined {
  let first: DraftContext | undefined;
  let count = 0;
  for (const draft of drafts) {
    if (draft.resourceType !== 'MedicationRequest') continue;
    let best: ReturnType<CodeList['matchConcept']>;
    for (const concept of conceptsOf(draft, lookup)) {
      const match = trigger.matchConcept(concept);
      if (match && (!best || (best.by === 'name' && match.by === 'code'))) best = match;
    }
    if (!best) continue;
    count += 1;
    if (!first) {
      const texts = conceptsOf(draft, lookup).flatMap((c) => textsOf(c));
      first = {
        draft,
        draftReference: draft.id ? `MedicationRequest/${draft.id}` : 'MedicationRequest',
        triggeringCount: 0,
        matchedBy: best.by,
        matchedText: best.matched,
        product: best.product ?? productFromText(texts),
      };
    }
  }
  if (first) first.triggeringCount = count;
  return first;
}

/** "zoledronic acid 5 mg/100 mL", "Reclast", "100 ML zoledronic acid 0.04 MG/ML" → product strength. */
function productFromText(texts: readonly string[]): Product | undefined {
  for (const text of texts) {
    if (/\b(reclast|aclasta)\b/i.test(text)) return { totalMg: 5, volumeMl: 100, mgPerMl: 0.05 };
    const total = /(\d+(?:\.\d+)?)\s*mg\s*(?:\/|per|in)\s*(\d+(?:\.\d+)?)\s*ml\b/i.exec(text);
    if (total) return { totalMg: Number(total[1]), volumeMl: Number(total[2]), mgPerMl: Number(total[1]) / Number(total[2]) };
    const concentration = /(\d+(?:\.\d+)?)\s*mg\s*\/\s*ml\b/i.exec(text);
    const volume = /^(\d+(?:\.\d+)?)\s*ml\b/i.exec(text.trim());
    if (concentration && volume) {
      const mgPerMl = Number(concentration[1]);
      const volumeMl = Number(volume[1]);
      return { totalMg: Math.round(mgPerMl * volumeMl * 1000) / 1000, volumeMl, mgPerMl };
    }
    if (/\bzometa\b/i.test(text)) return { totalMg: 4 };
  }
  return undefined;
}

const DAYS_PER_UNIT: Record<string, number> = { s: 1 / 86400, min: 1 / 1440, h: 1 / 24, d: 1, wk: 7, mo: 30.4375, a: 365.25 };
const MINUTES_PER_UNIT: Record<string, number> = { s: 1 / 60, min: 1, h: 60, d: 1440 };

function firstOf(value: unknown): Record<string, unknown> | undefined {
  if (Array.isArray(value)) return value.find((v) => v && typeof v === 'object') as Record<string, unknown> | undefined;
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
}

function fact(id: string, label: string, value: number | boolean | undefined, display: string, note?: string): Fact {
  if (value === undefined) return unknownFact(id, label, note ?? display);
  return { id, label, state: 'known', value, display, sources: [], notes: note ? [note] : [] };
}

/**
 * Pure: the draft order's dose (mg, converted with UCUM or from the product's mg/mL), dosing interval
 * and infusion time. What cannot be read is unknown and said so; nothing defaults.
 */
export function draftFacts(ctx: DraftContext, facts: Facts, units: UnitConverter, labels: Readonly<Record<string, string>>): Record<string, Fact> {
  const out: Record<string, Fact> = {};
  const reference = ctx.draftReference;
  const dosage = firstOf(ctx.draft.dosageInstruction);
  // The hook library's own R4 example sends doseAndRate as an object, not an array.
  const doseAndRate = firstOf(dosage?.doseAndRate);
  const doseQuantity = doseAndRate?.doseQuantity as Record<string, unknown> | undefined;
  const repeat = (dosage?.timing as { repeat?: Record<string, unknown> } | undefined)?.repeat;

  out['draft.zoledronicAcid'] = {
    id: 'draft.zoledronicAcid',
    label: labels['draft.zoledronicAcid']!,
    state: 'known',
    value: true,
    display: ctx.matchedText,
    sources: [reference],
    notes: ctx.matchedBy === 'name' ? [`identified by name ("${ctx.matchedText}"): the code list for this drug is not fully verified`] : [],
    ...(ctx.matchedBy === 'name' ? { matchedByName: true } : {}),
  };
  out['draft.zoledronicAcidCount'] = fact('draft.zoledronicAcidCount', labels['draft.zoledronicAcidCount']!, ctx.triggeringCount, String(ctx.triggeringCount));

  let doseMg: number | undefined;
  let doseNote: string | undefined;
  if (doseQuantity) {
    const asMass = units.convert(doseQuantity, 'mg');
    if (asMass.ok) doseMg = asMass.value;
    else {
      const asVolume = units.convert(doseQuantity, 'mL');
      if (asVolume.ok && ctx.product?.mgPerMl) doseMg = asVolume.value * ctx.product.mgPerMl;
      else doseNote = `ordered dose cannot be read as mg (${asMass.reason})`;
    }
  } else doseNote = 'no structured dose in the order';
  if (doseMg !== undefined) doseMg = Math.round(doseMg * 100) / 100;
  out['draft.doseMg'] = fact('draft.doseMg', labels['draft.doseMg']!, doseMg, doseMg !== undefined ? `${doseMg} mg` : 'unknown', doseNote);

  let intervalDays: number | undefined;
  const period = numericValue(repeat?.period);
  const frequency = numericValue(repeat?.frequency) ?? 1;
  const unitDays = typeof repeat?.periodUnit === 'string' ? DAYS_PER_UNIT[repeat.periodUnit] : undefined;
  if (period !== undefined && unitDays !== undefined && frequency > 0) intervalDays = Math.round(((period * unitDays) / frequency) * 10) / 10;
  out['draft.intervalDays'] = fact(
    'draft.intervalDays',
    labels['draft.intervalDays']!,
    intervalDays,
    intervalDays !== undefined ? `every ${intervalDays} days (${frequency}× per ${period} ${String(repeat?.periodUnit)})` : 'unknown',
    intervalDays === undefined ? 'no repeat schedule in the order (a single dose)' : undefined,
  );

  let infusionMinutes: number | undefined;
  const duration = numericValue(repeat?.duration);
  const durationUnit = typeof repeat?.durationUnit === 'string' ? MINUTES_PER_UNIT[repeat.durationUnit] : undefined;
  if (duration !== undefined && durationUnit !== undefined) infusionMinutes = duration * durationUnit;
  else {
    const rate = doseAndRate?.rateQuantity as Record<string, unknown> | undefined;
    const perHour = rate ? units.convert(rate, 'mL/h') : undefined;
    const volume = doseQuantity && units.convert(doseQuantity, 'mL').ok ? units.convert(doseQuantity, 'mL') : undefined;
    const volumeMl = volume && volume.ok ? volume.value : ctx.product?.volumeMl;
    if (perHour?.ok && perHour.value > 0 && volumeMl) infusionMinutes = (volumeMl / perHour.value) * 60;
  }
  if (infusionMinutes !== undefined) infusionMinutes = Math.round(infusionMinutes * 10) / 10;
  out['draft.infusionMinutes'] = fact(
    'draft.infusionMinutes',
    labels['draft.infusionMinutes']!,
    infusionMinutes,
    infusionMinutes !== undefined ? `${infusionMinutes} min` : 'unknown',
    infusionMinutes === undefined ? 'no infusion duration or rate in the order' : undefined,
  );

  const productMg = ctx.product?.totalMg;
  out['draft.productMg'] = fact('draft.productMg', labels['draft.productMg']!, productMg, productMg !== undefined ? `${productMg} mg` : 'unknown', productMg === undefined ? 'product strength not identifiable' : undefined);

  // Revision 2 §5.3: a 5 mg once-yearly order written for osteoporosis is not an adjuvant order.
  const reasons = [...(Array.isArray(ctx.draft.reasonCode) ? ctx.draft.reasonCode : []), ...(Array.isArray(ctx.draft.reasonReference) ? ctx.draft.reasonReference : [])];
  const reasonTexts = reasons.flatMap((r) => [...textsOf(r), ...codingsOf(r).map((c) => c.code)]);
  const forOsteoporosis = reasonTexts.some((t) => /osteopor|M8[01]|64859006|bone loss/i.test(t));
  const forBreastCancer = reasonTexts.some((t) => /breast|C50|cancer|carcinoma|neoplasm/i.test(t));
  out['draft.osteoporosisIndication'] = fact(
    'draft.osteoporosisIndication',
    labels['draft.osteoporosisIndication']!,
    forOsteoporosis && !forBreastCancer && productMg === 5,
    forOsteoporosis && !forBreastCancer ? 'osteoporosis' : 'not stated as osteoporosis',
  );

  const renalDose = facts.renalDoseMg?.value;
  out['draft.doseWithinRenalLimit'] =
    doseMg !== undefined && typeof renalDose === 'number'
      ? fact('draft.doseWithinRenalLimit', labels['draft.doseWithinRenalLimit']!, doseMg <= renalDose + 0.001, doseMg <= renalDose + 0.001 ? 'yes' : `no (${doseMg} mg > ${renalDose} mg)`)
      : unknownFact('draft.doseWithinRenalLimit', labels['draft.doseWithinRenalLimit']!, 'ordered dose or renal dose unknown');
  return out;
}
