import { CDT, ChartBuilder, ICD10CM, LOINC, quantity, SCT, type Coding } from './chart-builder';

/**
 * The pieces every breast-cancer chart has (diagnosis, receptors, staging, vitals, labs, DXA,
 * dental examination), coded the way US Core / mCODE EHR data arrives. Codes are those the fact
 * mappings read (fhir-mappings/code-lists), so the demo exercises the real matching.
 */
const POSITIVE: Coding = { system: LOINC, code: 'LA6576-8', display: 'Positive' };
const NEGATIVE: Coding = { system: LOINC, code: 'LA6577-6', display: 'Negative' };
const POSITIVE_SCT: Coding = { system: SCT, code: '10828004', display: 'Positive (qualifier value)' };
const NEGATIVE_SCT: Coding = { system: SCT, code: '260385009', display: 'Negative (qualifier value)' };
const EQUIVOCAL: Coding = { system: SCT, code: '280414007', display: 'Equivocal result' };

const STAGE_GROUPS: Record<string, Coding> = {
  IIA: { system: SCT, code: '1222766008', display: 'American Joint Committee on Cancer stage IIA (qualifier value)' },
  IIB: { system: SCT, code: '1222769001', display: 'American Joint Committee on Cancer stage IIB (qualifier value)' },
  IIIA: { system: SCT, code: '1222802001', display: 'American Joint Committee on Cancer stage IIIA (qualifier value)' },
  IV: { system: SCT, code: '1222837003', display: 'American Joint Committee on Cancer stage IV (qualifier value)' },
};
const T_CATEGORIES: Record<string, Coding> = {
  pT1c: { system: SCT, code: '1229846008', display: 'American Joint Committee on Cancer pT1c (qualifier value)' },
  pT2: { system: SCT, code: '1229852009', display: 'American Joint Committee on Cancer pT2 (qualifier value)' },
};
const N_CATEGORIES: Record<string, Coding> = {
  pN0: { system: SCT, code: '1229947003', display: 'American Joint Committee on Cancer pN0 (qualifier value)' },
  pN1: { system: SCT, code: '1229951001', display: 'American Joint Committee on Cancer pN1 (qualifier value)' },
  pN2a: { system: SCT, code: '1229959004', display: 'American Joint Committee on Cancer pN2a (qualifier value)' },
};
const M_CATEGORIES: Record<string, Coding> = {
  cM0: { system: SCT, code: '1229901006', display: 'American Joint Committee on Cancer cM0 (qualifier value)' },
  cM1: { system: SCT, code: '1229903009', display: 'American Joint Committee on Cancer cM1 (qualifier value)' },
};

export function breastCancer(
  c: ChartBuilder,
  input: { side: 'left' | 'right'; text: string; onset: string; clinicalStatus?: string; icd: string },
): void {
  const sct: Coding =
    input.side === 'left'
      ? { system: SCT, code: '353431000119107', display: 'Primary malignant neoplasm of female left breast (disorder)' }
      : { system: SCT, code: '408643008', display: 'Infiltrating duct carcinoma of breast (disorder)' };
  c.condition('breast-cancer', {
    code: [sct, { system: ICD10CM, code: input.icd, display: `Malignant neoplasm of ${input.side} female breast` }],
    text: input.text,
    onset: input.onset,
    clinicalStatus: input.clinicalStatus ?? 'active',
    bodySite: `${input.side} breast`,
  });
  c.procedure('biopsy', { code: { system: SCT, code: '122548005', display: 'Biopsy of breast (procedure)' }, text: `Core needle biopsy, ${input.side} breast`, when: input.onset });
}

export function receptors(
  c: ChartBuilder,
  when: string,
  input: { er: number; pr: number; her2: 'ihc3' | 'ihc2-fish-amplified' | 'ihc0'; fishRatio?: number },
): void {
  const percent = (value: number) => (value >= 1 ? `Positive, ${value}% of tumour nuclei` : 'Negative, < 1% of tumour nuclei');
  c.observation('er', {
    code: { system: LOINC, code: '85337-4', display: 'Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain' },
    text: 'ER (IHC)',
    category: 'laboratory',
    when,
    valueConcept: { coding: input.er >= 1 ? POSITIVE_SCT : NEGATIVE_SCT, text: percent(input.er) },
  });
  c.observation('pr', {
    code: { system: LOINC, code: '85339-0', display: 'Progesterone receptor Ag [Presence] in Breast cancer specimen by Immune stain' },
    text: 'PR (IHC)',
    category: 'laboratory',
    when,
    valueConcept: { coding: input.pr >= 1 ? POSITIVE : NEGATIVE, text: percent(input.pr) },
  });
  const her2Ihc = { system: LOINC, code: '85319-2', display: 'HER2 [Presence] in Breast cancer specimen by Immune stain' };
  if (input.her2 === 'ihc3') {
    c.observation('her2-ihc', { code: her2Ihc, text: 'HER2 (IHC)', category: 'laboratory', when, valueConcept: { coding: POSITIVE, text: 'Positive (3+)' } });
  } else if (input.her2 === 'ihc0') {
    c.observation('her2-ihc', { code: her2Ihc, text: 'HER2 (IHC)', category: 'laboratory', when, valueConcept: { coding: NEGATIVE, text: 'Negative (0)' } });
  } else {
    c.observation('her2-ihc', { code: her2Ihc, text: 'HER2 (IHC)', category: 'laboratory', when, valueConcept: { coding: EQUIVOCAL, text: 'Equivocal (2+): reflex to ISH' } });
    c.observation('her2-fish', {
      code: { system: LOINC, code: '85318-4', display: 'ERBB2 gene duplication [Presence] in Breast cancer specimen by FISH' },
      text: 'HER2 FISH',
      category: 'laboratory',
      when,
      valueConcept: { coding: POSITIVE, text: `Amplified (HER2/CEP17 ratio ${input.fishRatio ?? 2.6})` },
    });
  }
}

export function pathologicStage(c: ChartBuilder, when: string, input: { stage: string; t: string; n: string; m?: 'cM0' | 'cM1'; clinical?: boolean }): void {
  const profile = 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-tnm-stage-group';
  c.observation('stage', {
    code: input.clinical
      ? { system: LOINC, code: '21908-9', display: 'Stage group.clinical Cancer' }
      : { system: LOINC, code: '21902-2', display: 'Stage group.pathology Cancer' },
    text: input.clinical ? 'Clinical stage group (AJCC 8th)' : 'Pathologic stage group (AJCC 8th)',
    category: 'laboratory',
    when,
    valueConcept: { coding: STAGE_GROUPS[input.stage]!, text: `Stage ${input.stage}` },
    profile,
  });
  c.observation('pt', {
    code: { system: LOINC, code: '21899-0', display: 'Primary tumor.pathology Cancer' },
    category: 'laboratory',
    when,
    valueConcept: { coding: T_CATEGORIES[input.t]!, text: input.t },
  });
  c.observation('pn', {
    code: { system: LOINC, code: '21900-6', display: 'Regional lymph nodes.pathology Cancer' },
    category: 'laboratory',
    when,
    valueConcept: { coding: N_CATEGORIES[input.n]!, text: input.n },
  });
  c.observation('cm', {
    code: { system: LOINC, code: '21907-1', display: 'Distant metastases.clinical [Class] Cancer' },
    category: 'laboratory',
    when,
    valueConcept: { coding: M_CATEGORIES[input.m ?? 'cM0']!, text: input.m ?? 'cM0' },
  });
}

export function surgery(c: ChartBuilder, when: string, kind: 'lumpectomy' | 'mastectomy', side: 'left' | 'right', nodes: 'sentinel' | 'axillary'): void {
  if (kind === 'lumpectomy') {
    c.procedure('surgery', { code: { system: SCT, code: '392021009', display: 'Lumpectomy of breast (procedure)' }, text: `Lumpectomy, ${side} breast`, when, bodySite: `${side} breast` });
  } else {
    c.procedure('surgery', { code: { system: SCT, code: '392023007', display: 'Excision of lesion of breast (procedure)' }, text: `Total mastectomy, ${side}`, when, bodySite: `${side} breast` });
  }
  c.procedure('nodes', {
    code: { system: SCT, code: '396487001', display: 'Sentinel lymph node biopsy (procedure)' },
    text: nodes === 'sentinel' ? `Sentinel lymph node biopsy, ${side} axilla` : `Sentinel node biopsy followed by axillary dissection, ${side}`,
    when,
  });
}

export function menopausalStatus(c: ChartBuilder, when: string, status: 'postmenopausal' | 'premenopausal', note?: string): void {
  c.observation('menopause', {
    code: { system: SCT, code: '161712005', display: 'Menopause, function (observable entity)' },
    text: 'Menopausal status',
    category: 'social-history',
    when,
    valueConcept:
      status === 'postmenopausal'
        ? { coding: { system: SCT, code: '76498008', display: 'Postmenopausal (finding)' }, text: 'Postmenopausal' }
        : { coding: { system: SCT, code: '22636003', display: 'Premenopausal (finding)' }, text: 'Premenopausal' },
    ...(note ? { note } : {}),
  });
}

export function smokingStatus(c: ChartBuilder, when: string, status: 'never' | 'former'): void {
  c.observation('smoking', {
    code: { system: LOINC, code: '72166-2', display: 'Tobacco smoking status' },
    category: 'social-history',
    when,
    valueConcept:
      status === 'never'
        ? { coding: { system: SCT, code: '266919005', display: 'Never smoked tobacco (finding)' }, text: 'Never smoker' }
        : { coding: { system: SCT, code: '8517006', display: 'Ex-smoker (finding)' }, text: 'Former smoker' },
  });
}

/** Weight and height, in the units the clinic records (kg/cm or lb/in). */
export function vitals(c: ChartBuilder, suffix: string, when: string, input: { kg?: number; lb?: number; cm?: number; inches?: number }): void {
  const vitalsProfile = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
  c.observation(`weight-${suffix}`, {
    code: { system: LOINC, code: '29463-7', display: 'Body weight' },
    category: 'vital-signs',
    when,
    value: input.kg !== undefined ? quantity(input.kg, 'kg') : quantity(input.lb!, 'lb', '[lb_av]'),
    profile: vitalsProfile,
  });
  if (input.cm !== undefined || input.inches !== undefined) {
    c.observation(`height-${suffix}`, {
      code: { system: LOINC, code: '8302-2', display: 'Body height' },
      category: 'vital-signs',
      when,
      value: input.cm !== undefined ? quantity(input.cm, 'cm') : quantity(input.inches!, 'in', '[in_i]'),
      profile: vitalsProfile,
    });
  }
}

/** Serum creatinine (mg/dL or µmol/L) with the lab's eGFR (CKD-EPI 2021). */
export function renalPanel(c: ChartBuilder, suffix: string, when: string, input: { creatinine: number; unit: 'mg/dL' | 'umol/L'; egfr?: number }): void {
  c.observation(`creatinine-${suffix}`, {
    code:
      input.unit === 'mg/dL'
        ? { system: LOINC, code: '2160-0', display: 'Creatinine [Mass/volume] in Serum or Plasma' }
        : { system: LOINC, code: '14682-9', display: 'Creatinine [Moles/volume] in Serum or Plasma' },
    text: 'Creatinine',
    category: 'laboratory',
    when,
    value: input.unit === 'mg/dL' ? quantity(input.creatinine, 'mg/dL') : quantity(input.creatinine, 'µmol/L', 'umol/L'),
  });
  if (input.egfr !== undefined) {
    c.observation(`egfr-${suffix}`, {
      code: { system: LOINC, code: '98979-8', display: 'Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)' },
      text: 'eGFR (CKD-EPI 2021)',
      category: 'laboratory',
      when,
      value: quantity(input.egfr, 'mL/min/1.73m2', 'mL/min/{1.73_m2}'),
    });
  }
}

/** Total serum calcium (mg/dL or mmol/L) and albumin (g/dL or g/L) drawn together. */
export function calciumPanel(
  c: ChartBuilder,
  suffix: string,
  when: string,
  input: { calcium: number; calciumUnit: 'mg/dL' | 'mmol/L'; albumin?: number; albuminUnit?: 'g/dL' | 'g/L'; interpretation?: 'L' },
): void {
  c.observation(`calcium-${suffix}`, {
    code:
      input.calciumUnit === 'mg/dL'
        ? { system: LOINC, code: '17861-6', display: 'Calcium [Mass/volume] in Serum or Plasma' }
        : { system: LOINC, code: '2000-8', display: 'Calcium [Moles/volume] in Serum or Plasma' },
    text: 'Calcium, total',
    category: 'laboratory',
    when,
    value: quantity(input.calcium, input.calciumUnit),
    ...(input.interpretation ? { interpretation: { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'L', display: 'Low' } } : {}),
  });
  if (input.albumin !== undefined) {
    c.observation(`albumin-${suffix}`, {
      code: { system: LOINC, code: '1751-7', display: 'Albumin [Mass/volume] in Serum or Plasma' },
      text: 'Albumin',
      category: 'laboratory',
      when,
      value: quantity(input.albumin, input.albuminUnit ?? 'g/dL'),
    });
  }
}

/** A DXA study: the procedure plus lumbar-spine and femoral-neck T-scores. */
export function dxa(c: ChartBuilder, when: string, input: { spine: number; femur: number }): void {
  c.procedure('dxa', { code: { system: SCT, code: '312681000', display: 'Bone density scan (procedure)' }, text: 'DXA bone density, lumbar spine and hip', when });
  c.observation('dxa-spine', {
    code: { system: LOINC, code: '38267-1', display: 'DXA Lumbar spine [T-score] Bone density' },
    text: 'L1–L4 T-score',
    category: 'imaging',
    when,
    value: quantity(input.spine, '{T-score}'),
  });
  c.observation('dxa-femur', {
    code: { system: LOINC, code: '38263-0', display: 'DXA Femur [T-score] Bone density' },
    text: 'Femoral neck T-score',
    category: 'imaging',
    when,
    value: quantity(input.femur, 'SD', '{SD}'),
  });
}

export function dentalExam(c: ChartBuilder, suffix: string, when: string, note?: string): void {
  c.procedure(`dental-${suffix}`, {
    code: { system: CDT, code: 'D0120', display: 'periodic oral evaluation - established patient' },
    text: 'Dental examination',
    when,
    ...(note ? { note } : {}),
  });
}

/** Started `when`; `asserted` is the last medication reconciliation (revision 2 needs recent evidence). */
export function calciumVitaminD(c: ChartBuilder, when: string, asserted = when): void {
  c.medicationStatement('calcium-vitd', {
    medication: { text: 'calcium carbonate 1250 mg (500 mg elemental) / cholecalciferol 400 IU (vitamin D3) oral tablet' },
    status: 'active',
    when,
    asserted,
    dosage: '1 tablet by mouth twice daily',
    route: 'oral',
  });
}
