import type { Product } from '../fhir/codes';
import { codingsOf, textsOf } from '../fhir/codes';
import type { UnitConverter } from '../fhir/units';
import { numericValue } from '../fhir/units';
import type { AnyResource } from '../schemas/fhir-resource';
import type { Fact, Facts } from '../schemas/facts';
import { unknownFact } from '../schemas/facts';

/**
 * The zoledronic acid draft order as facts (clinical revision 2 §5.3–§5.4): dose, interval, infusion
 * time, product strength, the renal dose limit and an osteoporosis-only indication. Drug-specific, so
 * it lives here as a named builder; the engine finds the triggering draft (src/engine/draft-orders.ts)
 * and hands it over.
 */

/** Facts derived from the triggering draft order (their ids and labels; rules read them as `draft.*`). */
export const DRAFT_FACTS: Record<string, string> = {
  'draft.zoledronicAcid': 'Zoledronic acid draft order',
  'draft.zoledronicAcidCount': 'Zoledronic acid draft orders in this session',
  'draft.doseMg': 'Ordered dose',
  'draft.intervalDays': 'Ordered dosing interval',
  'draft.infusionMinutes': 'Ordered infusion time',
  'draft.productMg': 'Ordered product (mg per container)',
  'draft.doseWithinRenalLimit': 'Ordered dose within the renally adjusted dose',
  'draft.osteoporosisIndication': 'Ordered for osteoporosis (no breast-cancer reason)',
};

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

/** The first dosage instruction's parts the facts read. */
interface DraftDosage {
  doseAndRate: Record<string, unknown> | undefined;
  doseQuantity: Record<string, unknown> | undefined;
  repeat: Record<string, unknown> | undefined;
}

function dosageOf(draft: AnyResource): DraftDosage {
  const dosage = firstOf(draft.dosageInstruction);
  // The hook library's own R4 example sends doseAndRate as an object, not an array.
  const doseAndRate = firstOf(dosage?.doseAndRate);
  const doseQuantity = doseAndRate?.doseQuantity as Record<string, unknown> | undefined;
  const repeat = (dosage?.timing as { repeat?: Record<string, unknown> } | undefined)?.repeat;
  return { doseAndRate, doseQuantity, repeat };
}

/** The ordered dose in mg (UCUM, or a volume times the product's mg/mL), rounded to 0.01 mg; or why not. */
function orderedDoseMg(ctx: DraftContext, dosage: DraftDosage, units: UnitConverter): { doseMg: number | undefined; doseNote: string | undefined } {
  const { doseQuantity } = dosage;
  if (!doseQuantity) return { doseMg: undefined, doseNote: 'no structured dose in the order' };
  let doseMg: number | undefined;
  let doseNote: string | undefined;
  const asMass = units.convert(doseQuantity, 'mg');
  if (asMass.ok) doseMg = asMass.value;
  else {
    const asVolume = units.convert(doseQuantity, 'mL');
    if (asVolume.ok && ctx.product?.mgPerMl) doseMg = asVolume.value * ctx.product.mgPerMl;
    else doseNote = `ordered dose cannot be read as mg (${asMass.reason})`;
  }
  if (doseMg !== undefined) doseMg = Math.round(doseMg * 100) / 100;
  return { doseMg, doseNote };
}

function intervalFact(dosage: DraftDosage, label: string): Fact {
  const { repeat } = dosage;
  let intervalDays: number | undefined;
  const period = numericValue(repeat?.period);
  const frequency = numericValue(repeat?.frequency) ?? 1;
  const unitDays = typeof repeat?.periodUnit === 'string' ? DAYS_PER_UNIT[repeat.periodUnit] : undefined;
  if (period !== undefined && unitDays !== undefined && frequency > 0) intervalDays = Math.round(((period * unitDays) / frequency) * 10) / 10;
  return fact(
    'draft.intervalDays',
    label,
    intervalDays,
    intervalDays !== undefined ? `every ${intervalDays} days (${frequency}× per ${period} ${String(repeat?.periodUnit)})` : 'unknown',
    intervalDays === undefined ? 'no repeat schedule in the order (a single dose)' : undefined,
  );
}

/** Infusion time: the timing's duration, or else the volume over the rate. */
function infusionFact(ctx: DraftContext, dosage: DraftDosage, units: UnitConverter, label: string): Fact {
  const { repeat, doseAndRate, doseQuantity } = dosage;
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
  return fact(
    'draft.infusionMinutes',
    label,
    infusionMinutes,
    infusionMinutes !== undefined ? `${infusionMinutes} min` : 'unknown',
    infusionMinutes === undefined ? 'no infusion duration or rate in the order' : undefined,
  );
}

/** Revision 2 §5.3: a 5 mg once-yearly order written for osteoporosis is not an adjuvant order. */
function osteoporosisFact(ctx: DraftContext, productMg: number | undefined, label: string): Fact {
  const reasons = [
    ...(Array.isArray(ctx.draft.reasonCode) ? ctx.draft.reasonCode : []),
    ...(Array.isArray(ctx.draft.reasonReference) ? ctx.draft.reasonReference : []),
  ];
  const reasonTexts = reasons.flatMap((r) => [...textsOf(r), ...codingsOf(r).map((c) => c.code)]);
  const forOsteoporosis = reasonTexts.some((t) => /osteopor|M8[01]|64859006|bone loss/i.test(t));
  const forBreastCancer = reasonTexts.some((t) => /breast|C50|cancer|carcinoma|neoplasm/i.test(t));
  return fact(
    'draft.osteoporosisIndication',
    label,
    forOsteoporosis && !forBreastCancer && productMg === 5,
    forOsteoporosis && !forBreastCancer ? 'osteoporosis' : 'not stated as osteoporosis',
  );
}

/**
 * Pure: the draft order's dose (mg, converted with UCUM or from the product's mg/mL), dosing interval
 * and infusion time. What cannot be read is unknown and said so; nothing defaults.
 */
export function draftFacts(ctx: DraftContext, facts: Facts, units: UnitConverter, labels: Readonly<Record<string, string>>): Record<string, Fact> {
  const out: Record<string, Fact> = {};
  const dosage = dosageOf(ctx.draft);
  out['draft.zoledronicAcid'] = {
    id: 'draft.zoledronicAcid',
    label: labels['draft.zoledronicAcid']!,
    state: 'known',
    value: true,
    display: ctx.matchedText,
    sources: [ctx.draftReference],
    notes: ctx.matchedBy === 'name' ? [`identified by name ("${ctx.matchedText}"): the code list for this drug is not fully verified`] : [],
    ...(ctx.matchedBy === 'name' ? { matchedByName: true } : {}),
  };
  out['draft.zoledronicAcidCount'] = fact('draft.zoledronicAcidCount', labels['draft.zoledronicAcidCount']!, ctx.triggeringCount, String(ctx.triggeringCount));
  const { doseMg, doseNote } = orderedDoseMg(ctx, dosage, units);
  out['draft.doseMg'] = fact('draft.doseMg', labels['draft.doseMg']!, doseMg, doseMg !== undefined ? `${doseMg} mg` : 'unknown', doseNote);
  out['draft.intervalDays'] = intervalFact(dosage, labels['draft.intervalDays']!);
  out['draft.infusionMinutes'] = infusionFact(ctx, dosage, units, labels['draft.infusionMinutes']!);
  const productMg = ctx.product?.totalMg;
  out['draft.productMg'] = fact(
    'draft.productMg',
    labels['draft.productMg']!,
    productMg,
    productMg !== undefined ? `${productMg} mg` : 'unknown',
    productMg === undefined ? 'product strength not identifiable' : undefined,
  );
  out['draft.osteoporosisIndication'] = osteoporosisFact(ctx, productMg, labels['draft.osteoporosisIndication']!);
  const renalDose = facts.renalDoseMg?.value;
  out['draft.doseWithinRenalLimit'] =
    doseMg !== undefined && typeof renalDose === 'number'
      ? fact(
          'draft.doseWithinRenalLimit',
          labels['draft.doseWithinRenalLimit']!,
          doseMg <= renalDose + 0.001,
          doseMg <= renalDose + 0.001 ? 'yes' : `no (${doseMg} mg > ${renalDose} mg)`,
        )
      : unknownFact('draft.doseWithinRenalLimit', labels['draft.doseWithinRenalLimit']!, 'ordered dose or renal dose unknown');
  return out;
}
