import type { Fact, FactState, FactValue } from '../engine/facts';
import { ageInYears, describeDuration, formatDate, parseDuration, subtractDuration, type Duration } from '../fhir/dates';

/**
 * Clinical calculators: the few derivations that need arithmetic (Cockcroft-Gault, corrected
 * calcium, recurrence risk from staging…). Which facts feed them and every threshold they use are
 * data (fhir-mappings/facts/*.yaml, rules/settings.yaml); the formulas are here, each with its source.
 */
export type FactResult = Omit<Fact, 'id' | 'label'>;

export interface CalculatorContext {
  now: number;
}

export type ParamType = 'number' | 'duration' | 'dose-table';

export interface DoseBand {
  crclAbove?: number;
  crclAtLeast?: number;
  doseMg: number;
}

export interface Calculator {
  inputs: readonly string[];
  params: Readonly<Record<string, ParamType>>;
  compute(inputs: Readonly<Record<string, Fact>>, params: Readonly<Record<string, unknown>>, ctx: CalculatorContext): FactResult;
}

const has = (fact: Fact | undefined): fact is Fact & { value: FactValue } => fact !== undefined && fact.value !== undefined && fact.state !== 'unknown';

function unknown(...notes: string[]): FactResult {
  return { state: 'unknown', sources: [], notes };
}

/** The weakest state of the inputs: unknown < stale < conflicting < known. */
function combinedState(...facts: Fact[]): FactState {
  if (facts.some((f) => f.state === 'unknown')) return 'unknown';
  if (facts.some((f) => f.state === 'stale')) return 'stale';
  if (facts.some((f) => f.state === 'conflicting')) return 'conflicting';
  return 'known';
}

function sourcesOf(...facts: Fact[]): string[] {
  return [...new Set(facts.flatMap((f) => f.sources))];
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

const num = (params: Readonly<Record<string, unknown>>, name: string): number => params[name] as number;
const dur = (params: Readonly<Record<string, unknown>>, name: string): Duration => params[name] as Duration;

const ageYears: Calculator = {
  inputs: ['birthDate'],
  params: {},
  compute({ birthDate }, _params, { now }) {
    if (!has(birthDate) || birthDate.at === undefined) return unknown('birth date not documented');
    const age = ageInYears(birthDate.at, now);
    return { state: 'known', value: age, display: `${age} years`, sources: birthDate.sources, notes: [] };
  },
};

/**
 * Menopausal status as NCCN defines menopause: documented status, or prior bilateral oophorectomy,
 * or age ≥ 60 (config). Chemotherapy-induced amenorrhoea is deliberately not an inference.
 */
const menopausalStatus: Calculator = {
  inputs: ['documented', 'bilateralOophorectomy', 'age'],
  params: { postmenopausalFromAge: 'number' },
  compute({ documented, bilateralOophorectomy, age }, params) {
    const fromAge = num(params, 'postmenopausalFromAge');
    const doc = documented!;
    if (bilateralOophorectomy?.value === true) {
      return {
        state: 'known',
        value: 'postmenopausal',
        display: `postmenopausal (inferred: bilateral oophorectomy${bilateralOophorectomy.display ? ` ${bilateralOophorectomy.display}` : ''})`,
        sources: bilateralOophorectomy.sources,
        notes: [],
      };
    }
    if (doc.value === 'postmenopausal') {
      return { state: doc.state, value: 'postmenopausal', display: `postmenopausal (documented${doc.display ? `: ${doc.display}` : ''})`, sources: doc.sources, notes: doc.notes, ...(doc.at !== undefined ? { at: doc.at } : {}) };
    }
    if (has(age) && (age.value as number) >= fromAge) {
      const overrides = doc.value !== undefined ? `; documented ${String(doc.value)} is superseded by the age criterion` : '';
      return {
        state: 'known',
        value: 'postmenopausal',
        display: `postmenopausal (inferred: age ${String(age.value)} ≥ ${fromAge}${overrides})`,
        sources: [...age.sources, ...doc.sources],
        notes: [],
      };
    }
    if (doc.value !== undefined && doc.state !== 'unknown') {
      return { state: doc.state, value: doc.value, display: `${String(doc.value)} (documented${doc.display ? `: ${doc.display}` : ''})`, sources: doc.sources, notes: doc.notes, ...(doc.at !== undefined ? { at: doc.at } : {}) };
    }
    const reasons = ['not documented'];
    if (has(age)) reasons.push(`age ${String(age.value)} < ${fromAge}`);
    else reasons.push('age unknown');
    if (bilateralOophorectomy?.state === 'unknown') reasons.push('procedure history unavailable');
    else reasons.push('no bilateral oophorectomy recorded');
    return unknown(`menopausal status ${reasons.join('; ')}`);
  },
};

const HIGH_STAGES = /^(II|III)[ABC]?$/;
const LOW_STAGES = /^(0|I|IA|IB|IC)$/;

/**
 * Recurrence risk for the adjuvant decision (catalogue §1): stage II–III, node-positive or T ≥ 2 →
 * intermediate-or-high; stage I (or T ≤ 1) with N0 → low; nothing documented → unknown.
 */
const recurrenceRisk: Calculator = {
  inputs: ['stageGroup', 'tCategory', 'nCategory'],
  params: {},
  compute({ stageGroup, tCategory, nCategory }) {
    const stage = has(stageGroup) ? String(stageGroup.value) : undefined;
    const t = has(tCategory) ? String(tCategory.value) : undefined;
    const n = has(nCategory) ? String(nCategory.value) : undefined;
    const used = [stageGroup, tCategory, nCategory].filter((f): f is Fact => f !== undefined && f.value !== undefined);
    const reasons: string[] = [];
    if (stage && HIGH_STAGES.test(stage)) reasons.push(`stage ${stage}`);
    if (n && n !== 'N0') reasons.push(`node-positive (${n})`);
    if (t && /^T[234]/.test(t)) reasons.push(`tumour > 2 cm (${t})`);
    if (reasons.length > 0) {
      return { state: 'known', value: 'intermediate-or-high', display: `intermediate/high (${reasons.join(', ')})`, sources: sourcesOf(...used), notes: [] };
    }
    if ((stage && LOW_STAGES.test(stage)) || (t && /^T(is|0|1)/.test(t) && n === 'N0')) {
      const basis = [stage ? `stage ${stage}` : undefined, t, n].filter(Boolean).join(', ');
      return { state: 'known', value: 'low', display: `low (${basis})`, sources: sourcesOf(...used), notes: [] };
    }
    if (stage === 'IV') return { state: 'known', value: 'metastatic', display: 'stage IV (metastatic)', sources: sourcesOf(...used), notes: [] };
    return unknown('no stage group, T or N category documented');
  },
};

/**
 * Cockcroft-Gault creatinine clearance (Cockcroft DW, Gault MH. Nephron 1976;16:31–41), actual body
 * weight, as the zoledronic acid label uses it: [(140 − age) × kg] / (72 × SCr mg/dL), × 0.85 female.
 */
const cockcroftGault: Calculator = {
  inputs: ['age', 'sex', 'weight', 'creatinine'],
  params: { femaleFactor: 'number' },
  compute({ age, sex, weight, creatinine }, params) {
    const missing: string[] = [];
    if (!has(age)) missing.push('age');
    if (!has(sex) || (sex.value !== 'female' && sex.value !== 'male')) missing.push('sex (female/male)');
    if (!has(weight)) missing.push(`body weight${weight?.notes.length ? ` (${weight.notes.join('; ')})` : ''}`);
    if (!has(creatinine)) missing.push(`serum creatinine${creatinine?.notes.length ? ` (${creatinine.notes.join('; ')})` : ''}`);
    if (missing.length > 0) return unknown(`cannot calculate creatinine clearance: missing ${missing.join(', ')}`);
    const years = age!.value as number;
    const kg = weight!.value as number;
    const scr = creatinine!.value as number;
    if (scr <= 0) return unknown('creatinine value is not positive');
    let crcl = ((140 - years) * kg) / (72 * scr);
    if (sex!.value === 'female') crcl *= num(params, 'femaleFactor');
    const value = round(crcl, 1);
    const state = combinedState(weight!, creatinine!);
    const notes: string[] = [];
    if (weight!.state === 'stale') notes.push('body weight is older than its window');
    if (creatinine!.state === 'stale') notes.push('creatinine is older than its window');
    return {
      state,
      value,
      display: `${Math.round(value)} mL/min (Cockcroft-Gault: age ${years}, ${round(kg, 1)} kg, creatinine ${creatinine!.value} mg/dL, ${String(sex!.value)})`,
      sources: sourcesOf(age!, weight!, creatinine!),
      notes,
      ...(creatinine!.at !== undefined ? { at: creatinine!.at } : {}),
    };
  },
};

/** Zoledronic acid 4 mg label, Table 1 (MM / bone metastases) — applied here as a precaution. */
const renalDose: Calculator = {
  inputs: ['crcl'],
  params: { table: 'dose-table' },
  compute({ crcl }, params) {
    if (!has(crcl)) return unknown('creatinine clearance unknown');
    const value = crcl.value as number;
    const table = params.table as DoseBand[];
    const band = table.find((b) => (b.crclAbove !== undefined ? value > b.crclAbove : value >= (b.crclAtLeast ?? Infinity)));
    if (!band) return { state: crcl.state, sources: crcl.sources, notes: [`no dose for CrCl ${Math.round(value)} mL/min (not recommended below the table)`] };
    return { state: crcl.state, value: band.doseMg, display: `${band.doseMg} mg (CrCl ${Math.round(value)} mL/min)`, sources: crcl.sources, notes: [] };
  },
};

/** Corrected calcium (zoledronic acid label §1.1): cCa = Ca + 0.8 × (4.0 − albumin g/dL). */
const correctedCalcium: Calculator = {
  inputs: ['calcium', 'albumin'],
  params: { referenceAlbumin: 'number', factor: 'number', albuminMaxGap: 'duration' },
  compute({ calcium, albumin }, params) {
    if (!has(calcium)) return unknown(`serum calcium unknown${calcium?.notes.length ? ` (${calcium.notes.join('; ')})` : ''}`);
    const ca = calcium.value as number;
    const gap = dur(params, 'albuminMaxGap');
    const base = { sources: [...calcium.sources], ...(calcium.at !== undefined ? { at: calcium.at } : {}) };
    const albuminUsable =
      has(albumin) &&
      albumin.at !== undefined &&
      calcium.at !== undefined &&
      Math.abs(calcium.at - albumin.at) <= calcium.at - subtractDuration(calcium.at, gap);
    if (!albuminUsable) {
      return {
        ...base,
        state: calcium.state,
        value: round(ca, 2),
        display: `${round(ca, 2)} mg/dL (not albumin-corrected: no albumin within ${describeDuration(gap)} of the calcium)`,
        notes: calcium.notes,
      };
    }
    const alb = albumin!.value as number;
    const corrected = ca + num(params, 'factor') * (num(params, 'referenceAlbumin') - alb);
    return {
      ...base,
      sources: sourcesOf(calcium, albumin!),
      state: combinedState(calcium, albumin!),
      value: round(corrected, 2),
      display: `${round(corrected, 2)} mg/dL (calcium ${round(ca, 2)} mg/dL corrected for albumin ${round(alb, 1)} g/dL)`,
      notes: calcium.notes,
    };
  },
};

/** BMI: the documented value, else weight / height². */
const bmi: Calculator = {
  inputs: ['observed', 'weight', 'height'],
  params: {},
  compute({ observed, weight, height }) {
    if (has(observed) && observed.state !== 'stale') return { ...observed };
    if (has(weight) && has(height) && (height.value as number) > 0) {
      const metres = (height.value as number) / 100;
      const value = round((weight.value as number) / (metres * metres), 1);
      return {
        state: combinedState(weight, height),
        value,
        display: `${value} kg/m² (from ${round(weight.value as number, 1)} kg, ${round(height.value as number, 0)} cm)`,
        sources: sourcesOf(weight, height),
        notes: [],
      };
    }
    if (has(observed)) return { ...observed };
    return unknown('no BMI, or weight and height, documented');
  },
};

/**
 * Clinical fracture risk factors of the European consensus (Hadji et al. 2016): age > 65,
 * T-score < −1.5, current smoking, BMI < 24, family history of hip fracture, fragility fracture
 * after 50, oral glucocorticoids > 6 months. The count is `unknown` only when unassessable factors
 * could still change whether the threshold is met.
 */
const fractureRiskFactors: Calculator = {
  inputs: ['age', 'birthDate', 'lowestTScore', 'smoking', 'bmi', 'familyHipFracture', 'fragilityFracture', 'glucocorticoids', 'glucocorticoidsSince'],
  params: { ageAbove: 'number', tScoreBelow: 'number', bmiBelow: 'number', fractureFromAge: 'number', glucocorticoidMinimum: 'duration', needed: 'number' },
  compute(inputs, params, { now }) {
    const present: string[] = [];
    const unassessable: string[] = [];
    const used: Fact[] = [];
    const judge = (name: string, fact: Fact | undefined, test: (f: Fact & { value: FactValue }) => boolean | undefined) => {
      if (!has(fact) || fact.state === 'stale') {
        unassessable.push(name);
        return;
      }
      const result = test(fact);
      if (result === undefined) unassessable.push(name);
      else if (result) {
        present.push(`${name} (${fact.display ?? String(fact.value)})`);
        used.push(fact);
      }
    };
    judge(`age > ${num(params, 'ageAbove')}`, inputs.age, (f) => (f.value as number) > num(params, 'ageAbove'));
    judge(`T-score < ${num(params, 'tScoreBelow')}`, inputs.lowestTScore, (f) => (f.value as number) < num(params, 'tScoreBelow'));
    judge('current smoking', inputs.smoking, (f) => f.value === 'current');
    judge(`BMI < ${num(params, 'bmiBelow')}`, inputs.bmi, (f) => (f.value as number) < num(params, 'bmiBelow'));
    judge('family history of hip fracture', inputs.familyHipFracture, (f) => f.value === true);
    judge(`fragility fracture after ${num(params, 'fractureFromAge')}`, inputs.fragilityFracture, (f) => {
      if (f.value !== true) return false;
      const birth = inputs.birthDate?.at;
      if (f.at === undefined || birth === undefined) return undefined;
      return ageInYears(birth, f.at) >= num(params, 'fractureFromAge');
    });
    judge('oral glucocorticoids > 6 months', inputs.glucocorticoids, (f) => {
      if (f.value !== true) return false;
      const since = inputs.glucocorticoidsSince;
      if (!since || since.at === undefined) return undefined;
      return since.at <= subtractDuration(now, dur(params, 'glucocorticoidMinimum'));
    });
    const needed = num(params, 'needed');
    const display = [
      `${present.length} present${present.length ? `: ${present.join('; ')}` : ''}`,
      unassessable.length ? `not assessable: ${unassessable.join(', ')}` : undefined,
    ]
      .filter(Boolean)
      .join('; ');
    const decided = present.length >= needed || present.length + unassessable.length < needed;
    if (!decided) return { state: 'unknown', display, sources: sourcesOf(...used), notes: [`fracture risk factors: ${display}`] };
    return { state: 'known', value: present.length, display, sources: sourcesOf(...used), notes: [] };
  },
};

/** Creatinine before the first zoledronic acid dose (label: the baseline for the withholding rule). */
const creatinineBaseline: Calculator = {
  inputs: ['creatinine', 'firstDose'],
  params: { lookback: 'duration' },
  compute({ creatinine, firstDose }, params) {
    if (!firstDose || firstDose.at === undefined) return unknown('no zoledronic acid dose recorded');
    const series = creatinine?.series ?? [];
    const from = subtractDuration(firstDose.at, dur(params, 'lookback'));
    const baseline = series.find((p) => p.at !== undefined && p.at <= firstDose.at! + 86_400_000 && p.at >= from);
    if (!baseline || baseline.at === undefined) return unknown(`no creatinine in the ${describeDuration(dur(params, 'lookback'))} before the first dose (${formatDate(firstDose.at)})`);
    return {
      state: 'known',
      value: baseline.value,
      at: baseline.at,
      display: `${baseline.value} mg/dL (${formatDate(baseline.at)}, before the first dose on ${formatDate(firstDose.at)})`,
      sources: [baseline.reference],
      notes: [],
    };
  },
};

/**
 * Zoledronic acid label §2/§5: withhold for renal deterioration — a rise of 0.5 mg/dL over a normal
 * baseline (< 1.4 mg/dL), or 1.0 mg/dL over an abnormal one; resume within 10 % of baseline.
 */
const renalDeterioration: Calculator = {
  inputs: ['creatinine', 'baseline'],
  params: { abnormalBaselineFrom: 'number', riseIfNormal: 'number', riseIfAbnormal: 'number', resumeWithinFraction: 'number' },
  compute({ creatinine, baseline }, params) {
    if (!has(baseline)) return unknown(...(baseline?.notes ?? ['no baseline creatinine']));
    if (!has(creatinine)) return unknown('no current creatinine');
    const current = creatinine.value as number;
    const base = baseline.value as number;
    if (creatinine.at !== undefined && baseline.at !== undefined && creatinine.at <= baseline.at) {
      return { state: 'known', value: false, display: 'no creatinine since the baseline', sources: baseline.sources, notes: [] };
    }
    const abnormal = base >= num(params, 'abnormalBaselineFrom');
    const limit = abnormal ? num(params, 'riseIfAbnormal') : num(params, 'riseIfNormal');
    const rise = round(current - base, 2);
    const resumeAt = round(base * (1 + num(params, 'resumeWithinFraction')), 2);
    return {
      state: creatinine.state === 'stale' ? 'stale' : 'known',
      value: rise >= limit,
      display: `creatinine ${current} mg/dL${creatinine.at ? ` (${formatDate(creatinine.at)})` : ''} vs baseline ${base} mg/dL: ${rise >= 0 ? '+' : ''}${rise} mg/dL (limit +${limit} for a ${abnormal ? 'baseline ≥' : 'baseline <'} ${num(params, 'abnormalBaselineFrom')} mg/dL); resume when ≤ ${resumeAt} mg/dL`,
      sources: sourcesOf(creatinine, baseline),
      notes: [],
      ...(creatinine.at !== undefined ? { at: creatinine.at } : {}),
    };
  },
};

export const CALCULATORS: Readonly<Record<string, Calculator>> = {
  'age-years': ageYears,
  'menopausal-status': menopausalStatus,
  'recurrence-risk': recurrenceRisk,
  'cockcroft-gault': cockcroftGault,
  'renal-dose': renalDose,
  'corrected-calcium': correctedCalcium,
  bmi,
  'fracture-risk-factors': fractureRiskFactors,
  'creatinine-baseline': creatinineBaseline,
  'renal-deterioration': renalDeterioration,
};

/** Validates and converts a calculator parameter read from settings at start-up. */
export function coerceParam(type: ParamType, value: unknown): unknown {
  switch (type) {
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError('must be a number');
      return value;
    case 'duration':
      if (typeof value !== 'string') throw new TypeError('must be an ISO duration such as P30D');
      return parseDuration(value);
    case 'dose-table': {
      if (!Array.isArray(value) || value.length === 0) throw new TypeError('must be a non-empty list of dose bands');
      for (const band of value) {
        const b = band as DoseBand;
        if (typeof b.doseMg !== 'number' || (typeof b.crclAbove !== 'number' && typeof b.crclAtLeast !== 'number')) {
          throw new TypeError('each dose band needs doseMg and crclAbove or crclAtLeast');
        }
      }
      return value;
    }
  }
}
