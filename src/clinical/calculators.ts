import type { Fact, FactState, FactValue } from '../schemas/facts';
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

export type ParamType = 'number' | 'duration' | 'dose-table' | 'string' | 'string-list' | 'number-list';

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
  inputs: ['documented', 'bilateralOophorectomy', 'age', 'sex'],
  params: { postmenopausalFromAge: 'number' },
  compute({ documented, bilateralOophorectomy, age, sex }, params) {
    const fromAge = num(params, 'postmenopausalFromAge');
    const doc = documented!;
    // Revision 2: menopause does not apply to men, and is inferred (age, oophorectomy) only for women.
    if (sex?.value === 'male') return { state: 'known', value: 'not-applicable', display: 'not applicable (male)', sources: sex.sources, notes: [] };
    if (sex?.value !== 'female') {
      if (doc.value !== undefined && doc.state !== 'unknown') {
        return { state: doc.state, value: doc.value, display: `${String(doc.value)} (documented${doc.display ? `: ${doc.display}` : ''})`, sources: doc.sources, notes: doc.notes, ...(doc.at !== undefined ? { at: doc.at } : {}) };
      }
      return unknown(`menopausal status not documented; not inferred because sex is ${sex?.value === undefined ? 'not documented' : String(sex.value)}`);
    }
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
    // Revision 2: NX / TX ("cannot be assessed") are not evidence of anything.
    if (n && n !== 'N0' && n !== 'NX') reasons.push(`node-positive (${n})`);
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
    if (weight!.state === 'stale') notes.push(`computed with a body weight from ${weight!.at !== undefined ? formatDate(weight!.at) : 'an unknown date'}, older than its window (actual body weight)`);
    if (creatinine!.state === 'stale') notes.push('creatinine is older than its window');
    return {
      state,
      value,
      display: `${Math.round(value)} mL/min (Cockcroft-Gault: age ${years}, actual weight ${round(kg, 1)} kg${weight!.at !== undefined ? ` of ${formatDate(weight!.at)}` : ''}, creatinine ${creatinine!.value} mg/dL, ${String(sex!.value)})`,
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
  params: { ageAbove: 'number', tScoreBelow: 'number', bmiBelow: 'number', fractureFromAge: 'number', glucocorticoidMinimum: 'duration', needed: 'number', smokingStatuses: 'string-list' },
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
    const smokingCounts = params.smokingStatuses as string[];
    judge(`smoking (${smokingCounts.join(' or ')})`, inputs.smoking, (f) => smokingCounts.includes(String(f.value)));
    judge(`BMI < ${num(params, 'bmiBelow')}`, inputs.bmi, (f) => (f.value as number) < num(params, 'bmiBelow'));
    judge('family history of hip fracture', inputs.familyHipFracture, (f) => f.value === true);
    judge(`fragility fracture after ${num(params, 'fractureFromAge')}`, inputs.fragilityFracture, (f) => {
      if (f.value !== true) return false;
      const birth = inputs.birthDate?.at;
      if (f.at === undefined || birth === undefined) return undefined;
      return ageInYears(birth, f.at) >= num(params, 'fractureFromAge');
    });
    judge(`oral glucocorticoids > ${describeDuration(dur(params, 'glucocorticoidMinimum'))}`, inputs.glucocorticoids, (f) => {
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


const DAY_MS = 86_400_000;
const olderThan = (at: number, now: number, duration: Duration) => at <= subtractDuration(now, duration);
const dateText = (fact: Fact | undefined) => (fact?.at !== undefined ? formatDate(fact.at) : 'undated');

/**
 * Revision 2 §5.1 metastatic disease: `known` from a metastasis code (ICD-10-CM C77.2/.4/.5, C78–C79,
 * C80.0; curated SNOMED sites), the mCODE secondary-cancer profile, M1 or stage IV staging (any date),
 * a stage IV Condition.stage; `suspected` from text alone; otherwise `none`.
 */
const metastaticStatus: Calculator = {
  inputs: ['coded', 'profile', 'conditionStage', 'mCategory', 'stageGroup', 'text'],
  params: {},
  compute({ coded, profile, conditionStage, mCategory, stageGroup, text }) {
    const known: string[] = [];
    const used: Fact[] = [];
    const add = (fact: Fact | undefined, what: (f: Fact) => string) => {
      if (fact) {
        known.push(what(fact));
        used.push(fact);
      }
    };
    if (coded?.value === true) add(coded, (f) => `diagnosis ${f.display?.replace(/^yes: /, '') ?? ''}`);
    if (profile?.value === true) add(profile, (f) => `secondary cancer ${f.display?.replace(/^yes: /, '') ?? ''}`);
    if (conditionStage?.value === true) add(conditionStage, (f) => `stage IV on the diagnosis (${dateText(f)})`);
    if (mCategory?.value === 'M1') add(mCategory, (f) => `M1 staging (${dateText(f)})`);
    if (stageGroup?.value === 'IV') add(stageGroup, (f) => `stage IV (${dateText(f)})`);
    if (known.length > 0) {
      const newest = used.reduce((a, b) => ((b.at ?? -Infinity) > (a.at ?? -Infinity) ? b : a));
      return { state: 'known', value: 'known', display: known.join('; '), sources: sourcesOf(...used), notes: [], ...(newest.at !== undefined ? { at: newest.at } : {}) };
    }
    if (text?.value === true) {
      const quoted = text.display?.replace(/^yes: /, '') ?? '';
      return { state: 'known', value: 'suspected', display: `the chart says "${quoted.replace(/ \((\d{4}-\d{2}-\d{2}|undated)\)( and \d+ more)?$/, '')}" (${dateText(text)})`, sources: text.sources, notes: [], ...(text.at !== undefined ? { at: text.at } : {}) };
    }
    const gaps = [coded, mCategory, stageGroup].filter((f) => f?.state === 'unknown' && f.notes.some((n) => /could not be obtained/.test(n)));
    if (gaps.length > 0) return unknown('diagnosis or staging data could not be obtained');
    return { state: 'known', value: 'none', display: 'no evidence of distant metastasis', sources: [], notes: [] };
  },
};

/**
 * Revision 2 §5.1 pregnancy: a positive hCG, an active pregnancy diagnosis or a status "pregnant"
 * counts until a later negative hCG / "not pregnant", a documented outcome, or the window (300 days).
 */
const pregnancyPossible: Calculator = {
  inputs: ['hcgPositive', 'hcgNegative', 'condition', 'status', 'outcome'],
  params: { window: 'duration' },
  compute({ hcgPositive, hcgNegative, condition, status, outcome }, params, { now }) {
    const positives: { fact: Fact; what: string }[] = [];
    if (hcgPositive?.value === true && hcgPositive.at !== undefined) positives.push({ fact: hcgPositive, what: `positive hCG on ${formatDate(hcgPositive.at)}` });
    if (condition?.value === true) positives.push({ fact: condition, what: `pregnancy diagnosis (${dateText(condition)})` });
    if (status?.value === 'pregnant' && status.at !== undefined) positives.push({ fact: status, what: `pregnancy status "pregnant" on ${formatDate(status.at)}` });
    if (positives.length === 0) {
      const inputsMissing = [hcgPositive, condition].some((f) => f?.state === 'unknown');
      if (inputsMissing) return unknown('pregnancy data could not be obtained');
      return { state: 'known', value: false, display: 'no evidence of pregnancy', sources: [], notes: [] };
    }
    positives.sort((a, b) => (b.fact.at ?? Infinity) - (a.fact.at ?? Infinity));
    const newest = positives[0]!;
    const since = newest.fact.at;
    const enders: { at: number | undefined; what: string; fact: Fact }[] = [];
    if (hcgNegative?.value === true) enders.push({ at: hcgNegative.at, what: `negative hCG on ${dateText(hcgNegative)}`, fact: hcgNegative });
    if (status?.value === 'not-pregnant') enders.push({ at: status.at, what: `status "not pregnant" on ${dateText(status)}`, fact: status });
    if (outcome?.value === true) enders.push({ at: outcome.at, what: `pregnancy outcome ${outcome.display?.replace(/^yes: /, '') ?? ''}`, fact: outcome });
    const ended = since !== undefined ? enders.find((e) => e.at !== undefined && e.at > since) : undefined;
    if (ended) return { state: 'known', value: false, display: `${newest.what}, superseded by ${ended.what}`, sources: sourcesOf(newest.fact, ended.fact), notes: [] };
    // An undated active pregnancy diagnosis stays possible: absence of a date is not evidence it ended.
    if (since !== undefined && olderThan(since, now, dur(params, 'window'))) {
      return { state: 'known', value: false, display: `${newest.what}, more than ${describeDuration(dur(params, 'window'))} ago`, sources: newest.fact.sources, notes: [] };
    }
    return { state: 'known', value: true, display: newest.what, sources: newest.fact.sources, notes: [], ...(since !== undefined ? { at: since } : {}) };
  },
};

/**
 * Revision 2 §5.1 adjuvant start window: the anchor is the most recent start of an adjuvant phase
 * (definitive surgery, end of chemotherapy, start of endocrine therapy), else the diagnosis date.
 * open ≤ openFor; late ≤ lateUntil; passed beyond.
 */
const adjuvantStartWindow: Calculator = {
  inputs: ['surgery', 'chemotherapyEnd', 'aromataseInhibitorStart', 'tamoxifenStart', 'diagnosis'],
  params: { openFor: 'duration', lateUntil: 'duration' },
  compute({ surgery, chemotherapyEnd, aromataseInhibitorStart, tamoxifenStart, diagnosis }, params, { now }) {
    const endocrine = [aromataseInhibitorStart, tamoxifenStart].filter((f): f is Fact => f?.at !== undefined).sort((a, b) => a.at! - b.at!)[0];
    const phases: { at: number; what: string; fact: Fact }[] = [];
    if (surgery?.value === true && surgery.at !== undefined) phases.push({ at: surgery.at, what: 'breast surgery', fact: surgery });
    if (chemotherapyEnd?.at !== undefined) phases.push({ at: chemotherapyEnd.at, what: 'last chemotherapy', fact: chemotherapyEnd });
    if (endocrine) phases.push({ at: endocrine.at!, what: 'start of endocrine therapy', fact: endocrine });
    let anchor = phases.sort((a, b) => b.at - a.at)[0];
    if (!anchor && diagnosis?.value === true && diagnosis.at !== undefined) anchor = { at: diagnosis.at, what: 'diagnosis', fact: diagnosis };
    if (!anchor) return unknown('no date for surgery, chemotherapy, endocrine therapy or diagnosis');
    const months = Math.floor((now - anchor.at) / (30.44 * DAY_MS));
    const base = { sources: anchor.fact.sources, notes: [] as string[], at: anchor.at };
    const since = `${months} month${months === 1 ? '' : 's'} after ${anchor.what} (${formatDate(anchor.at)})`;
    if (!olderThan(anchor.at, now, dur(params, 'openFor'))) return { ...base, state: 'known', value: 'open', display: since };
    if (!olderThan(anchor.at, now, dur(params, 'lateUntil'))) return { ...base, state: 'known', value: 'late', display: since };
    return { ...base, state: 'known', value: 'passed', display: since };
  },
};

/**
 * Revision 2 §5.1 course status from the full dose history: complete (N doses or T since the first),
 * on course (last dose ≤ lapsedAfter ago), lapsed (longer), none (never given).
 */
const courseStatus: Calculator = {
  inputs: ['doseCount', 'firstDose', 'lastDose', 'stopReason'],
  params: { completeDoses: 'number', completeAfter: 'duration', lapsedAfter: 'duration' },
  compute({ doseCount, firstDose, lastDose, stopReason }, params, { now }) {
    const count = typeof doseCount?.value === 'number' ? doseCount.value : 0;
    if (count === 0 || firstDose?.at === undefined || lastDose?.at === undefined) {
      return { state: 'known', value: 'none', display: 'no zoledronic acid dose recorded', sources: [], notes: [] };
    }
    const reason = stopReason?.value !== undefined ? `; stopped: ${stopReason.display ?? String(stopReason.value)}` : '';
    const history = `${count} dose${count === 1 ? '' : 's'}, first ${formatDate(firstDose.at)}, last ${formatDate(lastDose.at)}${reason}`;
    const sources = sourcesOf(firstDose, lastDose);
    const complete = count >= num(params, 'completeDoses') || olderThan(firstDose.at, now, dur(params, 'completeAfter'));
    const value = complete ? 'complete' : olderThan(lastDose.at, now, dur(params, 'lapsedAfter')) ? 'lapsed' : 'on-course';
    return { state: 'known', value, display: `${value === 'on-course' ? 'on course' : value} (${history})`, sources, notes: [], at: lastDose.at };
  },
};

/** Revision 2 §5.1 denosumab (ECTS 2021): active < activeFor; switch due until switchUntil; then past. */
const denosumabStatus: Calculator = {
  inputs: ['lastDose'],
  params: { activeFor: 'duration', switchUntil: 'duration', lateDoseUntil: 'duration' },
  compute({ lastDose }, params, { now }) {
    if (lastDose?.at === undefined) return { state: 'known', value: 'none', display: 'no denosumab recorded', sources: [], notes: [] };
    const last = formatDate(lastDose.at);
    const base = { state: 'known' as const, sources: lastDose.sources, notes: [] as string[], at: lastDose.at };
    if (!olderThan(lastDose.at, now, dur(params, 'activeFor'))) return { ...base, value: 'active', display: `active (last injection ${last})` };
    if (!olderThan(lastDose.at, now, dur(params, 'lateDoseUntil'))) return { ...base, value: 'switch-due-or-late-dose', display: `last injection ${last}: a bisphosphonate is due unless this is a late denosumab dose` };
    if (!olderThan(lastDose.at, now, dur(params, 'switchUntil'))) return { ...base, value: 'switch-due', display: `last injection ${last}: a bisphosphonate is due (rebound bone loss)` };
    return { ...base, value: 'past', display: `last injection ${last}` };
  },
};

/** Revision 2 §5.1 bone-losing treatment: AI, ovarian suppression or chemotherapy current or within the window. */
const boneLosingTreatment: Calculator = {
  inputs: ['aromataseInhibitor', 'aromataseInhibitorLast', 'ovarianSuppression', 'ovarianSuppressionLast', 'chemotherapy', 'chemotherapyLast'],
  params: { within: 'duration' },
  compute(inputs, params, { now }) {
    const classes: [string, Fact | undefined, Fact | undefined][] = [
      ['aromatase inhibitor', inputs.aromataseInhibitor, inputs.aromataseInhibitorLast],
      ['ovarian suppression', inputs.ovarianSuppression, inputs.ovarianSuppressionLast],
      ['chemotherapy', inputs.chemotherapy, inputs.chemotherapyLast],
    ];
    const found: string[] = [];
    const used: Fact[] = [];
    for (const [name, current, last] of classes) {
      if (current?.value === true) {
        found.push(`${name} (current)`);
        used.push(current);
      } else if (last?.at !== undefined && !olderThan(last.at, now, dur(params, 'within'))) {
        found.push(`${name} (last evidence ${last.display ?? formatDate(last.at)})`);
        used.push(last);
      }
    }
    if (found.length > 0) return { state: 'known', value: true, display: found.join('; '), sources: sourcesOf(...used), notes: [] };
    return { state: 'known', value: false, display: `none current or within ${describeDuration(dur(params, 'within'))}`, sources: [], notes: [] };
  },
};

/**
 * Revision 2 §5.3 OS-CRCL-UNCERTAIN: the weight used is older than its window and CrCl lies within a
 * fraction of a dose-band edge, so the dose band itself is uncertain.
 */
const crclNearBandEdge: Calculator = {
  inputs: ['crcl', 'weight'],
  params: { edges: 'number-list', fraction: 'number' },
  compute({ crcl, weight }, params) {
    if (!has(crcl)) return unknown('creatinine clearance unknown');
    const value = crcl.value as number;
    const fraction = num(params, 'fraction');
    const edge = (params.edges as number[]).find((e) => Math.abs(value - e) <= e * fraction);
    const weightOld = weight?.state === 'stale';
    const weightDate = weight?.at !== undefined ? formatDate(weight.at) : 'unknown date';
    if (edge !== undefined && weightOld) {
      return { state: 'known', value: true, display: `CrCl ${Math.round(value)} mL/min is within ${Math.round(fraction * 100)} % of the ${edge} mL/min dose-band edge and uses a weight of ${weightDate}`, sources: crcl.sources, notes: [], ...(weight?.at !== undefined ? { at: weight.at } : {}) };
    }
    return { state: 'known', value: false, display: weightOld ? `weight of ${weightDate} (not near a dose-band edge)` : 'current weight', sources: [], notes: [] };
  },
};

/**
 * Revision 2 §5.1 calcium before a dose: ionised calcium preferred when present; otherwise corrected
 * calcium against the lab's lower limit (when the result carries one) or the configured default.
 */
const calciumLow: Calculator = {
  inputs: ['correctedCalcium', 'calcium', 'ionised'],
  params: { lowCorrectedBelow: 'number', ionisedLowBelow: 'number' },
  compute({ correctedCalcium, calcium, ionised }, params) {
    if (has(ionised) && ionised.state !== 'stale') {
      const limit = ionised.referenceLow ?? num(params, 'ionisedLowBelow');
      const value = ionised.value as number;
      return { state: 'known', value: value < limit, display: `ionised calcium ${value} mg/dL (${dateText(ionised)}; low below ${limit} mg/dL)`, sources: ionised.sources, notes: [], ...(ionised.at !== undefined ? { at: ionised.at } : {}) };
    }
    if (!has(correctedCalcium) || correctedCalcium.state === 'stale') return unknown(`no usable serum calcium${correctedCalcium?.display ? ` (last: ${correctedCalcium.display})` : ''}`);
    const limit = calcium?.referenceLow ?? num(params, 'lowCorrectedBelow');
    const value = correctedCalcium.value as number;
    return { state: 'known', value: value < limit, display: `${correctedCalcium.display ?? `${value} mg/dL`}; low below ${limit} mg/dL`, sources: correctedCalcium.sources, notes: [], ...(correctedCalcium.at !== undefined ? { at: correctedCalcium.at } : {}) };
  },
};

/**
 * Revision 2 §5.4 dose of the draft order: site policy `label-table` (the 4 mg label's table, a
 * precaution extrapolated from the every-3–4-weeks regimen) from the baseline CrCl (before the first
 * dose; for a new start the current one), or `none` (always the regimen dose).
 */
const adjuvantDose: Calculator = {
  inputs: ['crcl', 'baselineCrcl'],
  params: { table: 'dose-table', policy: 'string', regimenDoseMg: 'number' },
  compute({ crcl, baselineCrcl }, params) {
    const regimen = num(params, 'regimenDoseMg');
    if (params.policy === 'none') return { state: 'known', value: regimen, display: `${regimen} mg (site policy: no renal dose adjustment)`, sources: [], notes: [] };
    const basis = has(baselineCrcl) ? { fact: baselineCrcl, what: 'baseline CrCl' } : has(crcl) ? { fact: crcl, what: 'CrCl' } : undefined;
    if (!basis) return unknown('creatinine clearance unknown: the dose cannot be set');
    const value = basis.fact.value as number;
    const band = (params.table as DoseBand[]).find((b) => (b.crclAbove !== undefined ? value > b.crclAbove : value >= (b.crclAtLeast ?? Infinity)));
    if (!band) return { state: basis.fact.state, sources: basis.fact.sources, notes: [`no dose for ${basis.what} ${Math.round(value)} mL/min`] };
    const precaution = band.doseMg < regimen ? ' (label table, a precaution extrapolated from the every-3–4-weeks regimen)' : '';
    return { state: basis.fact.state, value: band.doseMg, display: `${band.doseMg} mg for ${basis.what} ${Math.round(value)} mL/min${precaution}`, sources: basis.fact.sources, notes: [] };
  },
};

/** A site setting exposed as a fact so rules can branch on a site policy. */
const siteSetting: Calculator = {
  inputs: [],
  params: { value: 'string' },
  compute(_inputs, params) {
    return { state: 'known', value: params.value as string, display: params.value as string, sources: [], notes: [] };
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
  'metastatic-status': metastaticStatus,
  'pregnancy-possible': pregnancyPossible,
  'adjuvant-start-window': adjuvantStartWindow,
  'course-status': courseStatus,
  'denosumab-status': denosumabStatus,
  'bone-losing-treatment': boneLosingTreatment,
  'crcl-near-band-edge': crclNearBandEdge,
  'calcium-low': calciumLow,
  'adjuvant-dose': adjuvantDose,
  'site-setting': siteSetting,
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
    case 'string':
      if (typeof value !== 'string' || value === '') throw new TypeError('must be a non-empty string');
      return value;
    case 'string-list':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new TypeError('must be a list of strings');
      return value;
    case 'number-list':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw new TypeError('must be a list of numbers');
      return value;
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
