import { ANCHOR_DATE, ChartBuilder, daysBefore, ICD10CM, quantity, RXNORM, SCT, SYNTHETIC_TAG, timeBefore, type Json } from './chart-builder';
import {
  breastCancer,
  calciumPanel,
  calciumVitaminD,
  dentalExam,
  dxa,
  menopausalStatus,
  pathologicStage,
  receptors,
  renalPanel,
  smokingStatus,
  surgery,
  vitals,
} from './chart-parts';

/**
 * The synthetic demo patients: one clinical story each. This file is the single source of truth for
 * examples/patients/*.json and examples/patients/manifest.json (`npm run demo:patients` writes them;
 * a test checks the committed files match). `expected` lists the rule ids (card.source.topic.code) the
 * service answers with, in order, as of the anchor date; the end-to-end test asserts them for every
 * patient through the demo FHIR server, and the README table shows them.
 */
export type HookName = 'patient-view' | 'order-select' | 'order-sign';

export interface DemoPatient {
  id: string;
  file: string;
  name: string;
  story: string;
  expected: Record<HookName, string[]>;
  chart: Json[];
}

const PRACTITIONER: Json = {
  resourceType: 'Practitioner',
  id: 'demo-oncologist',
  meta: { tag: [SYNTHETIC_TAG] },
  name: [{ family: 'Oncologist', given: ['Demo'], prefix: ['Dr.'] }],
};

const letrozole = { system: RXNORM, code: '200064', display: 'letrozole 2.5 MG Oral Tablet' };
const anastrozole = { system: RXNORM, code: '199224', display: 'anastrozole 1 MG Oral Tablet' };
const exemestane = { system: RXNORM, code: '310261', display: 'exemestane 25 MG Oral Tablet' };
const tamoxifen = { system: RXNORM, code: '198240', display: 'Tamoxifen 10 MG Oral Tablet' };
const goserelin = { system: RXNORM, code: '310592', display: 'goserelin 3.6 MG Drug Implant' };
const trastuzumab = { system: RXNORM, code: '224905', display: 'trastuzumab' };
const pertuzumab = { system: RXNORM, code: '1298944', display: 'pertuzumab' };
const tdm1 = { system: RXNORM, code: '1658084', display: 'ado-trastuzumab emtansine 100 MG Injection' };
const paclitaxel = { system: RXNORM, code: '583214', display: 'paclitaxel 100 MG Injection' };
const docetaxel = { system: RXNORM, code: '1860485', display: '4 ML docetaxel 20 MG/ML Injection' };
const carboplatin = { system: RXNORM, code: '597195', display: 'carboplatin 10 MG/ML Injectable Solution' };
const doxorubicin = { system: RXNORM, code: '1790099', display: '10 ML doxorubicin hydrochloride 2 MG/ML Injection' };
const cyclophosphamide = { system: RXNORM, code: '1734919', display: 'cyclophosphamide 1000 MG Injection' };
const zoledronicAcid = { system: RXNORM, code: '351114', display: 'zoledronic acid 4 MG per 5 ML injection' };

/** Zoledronic acid 4 mg infusions given `daysAgo` days before the anchor, plus the standing order. */
function zoledronicCourse(c: ChartBuilder, doses: number[], status: 'active' | 'completed' = 'active'): void {
  c.medicationRequest('zol-order', {
    medication: zoledronicAcid,
    text: 'zoledronic acid 4 mg IV every 6 months (adjuvant)',
    status,
    when: daysBefore(Math.max(...doses) + 3),
    dosage: '4 mg IV over 15 minutes every 6 months for 3–5 years',
    dose: quantity(4, 'mg'),
    route: 'iv',
    reason: 'Adjuvant bisphosphonate, early breast cancer',
  });
  doses.forEach((days, i) =>
    c.medicationAdministration(`zol-dose-${i + 1}`, {
      medication: zoledronicAcid,
      status: 'completed',
      when: timeBefore(days, '10:15'),
      dosage: '4 mg in 100 mL NS IV over 15 min',
      dose: quantity(4, 'mg'),
      route: 'iv',
    }),
  );
}

function antiHer2(c: ChartBuilder, when: string, status: 'active' | 'completed'): void {
  c.medicationRequest('trastuzumab', { medication: trastuzumab, text: 'trastuzumab 6 mg/kg IV every 3 weeks', status, when, dosage: '6 mg/kg IV every 3 weeks (loading 8 mg/kg)', route: 'iv' });
}

function patient01(): Json[] {
  const c = new ChartBuilder('zol-01', 'zol01');
  c.patient({ given: ['Margaret', 'Ann'], family: 'Okafor', birthDate: '1960-03-14', city: 'Springfield', state: 'IL', mrn: 'DEMO-0001' });
  breastCancer(c, { side: 'left', text: 'Invasive ductal carcinoma, left breast, ER+/PR−/HER2+ (3+), pT1c pN1a', onset: daysBefore(270), icd: 'C50.412', clinicalStatus: 'remission' });
  receptors(c, daysBefore(268), { er: 90, pr: 0, her2: 'ihc3' });
  surgery(c, daysBefore(235), 'lumpectomy', 'left', 'sentinel');
  pathologicStage(c, daysBefore(228), { stage: 'IIA', t: 'pT1c', n: 'pN1' });
  menopausalStatus(c, daysBefore(268), 'postmenopausal', 'Last menstrual period age 51');
  c.medicationRequest('paclitaxel', { medication: paclitaxel, text: 'paclitaxel 80 mg/m² weekly ×12', status: 'completed', when: daysBefore(205), dosage: '80 mg/m² IV weekly for 12 weeks', route: 'iv' });
  c.medicationRequestContained('phesgo', { text: 'Phesgo (pertuzumab, trastuzumab, hyaluronidase-zzxf) SC injection', status: 'active', when: daysBefore(205), dosage: '600 mg/600 mg SC every 3 weeks to complete 1 year' });
  c.medicationRequest('letrozole', { medication: letrozole, status: 'active', when: daysBefore(60), dosage: '2.5 mg by mouth daily', route: 'oral' });
  dxa(c, daysBefore(150), { spine: -1.3, femur: -1.1 });
  vitals(c, 'recent', timeBefore(12, '08:50'), { lb: 150, inches: 64 });
  smokingStatus(c, daysBefore(12), 'never');
  renalPanel(c, 'recent', timeBefore(12, '08:30'), { creatinine: 0.8, unit: 'mg/dL', egfr: 78 });
  calciumPanel(c, 'recent', timeBefore(12, '08:30'), { calcium: 9.4, calciumUnit: 'mg/dL', albumin: 4.1, albuminUnit: 'g/dL' });
  dentalExam(c, 'recent', daysBefore(90));
  c.allergy('penicillin', { code: { system: RXNORM, code: '7980', display: 'penicillin G' }, text: 'Penicillin', when: daysBefore(3000), reaction: 'Hives' });
  return c.resources;
}

function patient02(): Json[] {
  const c = new ChartBuilder('zol-02', 'zol02');
  c.patient({ given: ['Priya'], family: 'Raman', birthDate: '1985-06-02', city: 'Naperville', state: 'IL', mrn: 'DEMO-0002' });
  breastCancer(c, { side: 'right', text: 'Invasive ductal carcinoma, right breast, ER+/PR+/HER2+ (3+), ypT2 ypN1', onset: daysBefore(300), icd: 'C50.911', clinicalStatus: 'remission' });
  receptors(c, daysBefore(298), { er: 95, pr: 60, her2: 'ihc3' });
  c.medicationRequest('docetaxel', { medication: docetaxel, text: 'docetaxel 75 mg/m² (TCHP ×6)', status: 'completed', when: daysBefore(290), dosage: '75 mg/m² IV every 3 weeks ×6', route: 'iv' });
  c.medicationRequest('carboplatin', { medication: carboplatin, text: 'carboplatin AUC 6 (TCHP ×6)', status: 'completed', when: daysBefore(290), dosage: 'AUC 6 IV every 3 weeks ×6', route: 'iv' });
  surgery(c, daysBefore(150), 'mastectomy', 'right', 'sentinel');
  pathologicStage(c, daysBefore(145), { stage: 'IIB', t: 'pT2', n: 'pN1' });
  menopausalStatus(c, daysBefore(298), 'premenopausal', 'Regular menses before chemotherapy');
  antiHer2(c, daysBefore(290), 'active');
  c.medicationRequest('pertuzumab', { medication: pertuzumab, text: 'pertuzumab 420 mg IV every 3 weeks', status: 'active', when: daysBefore(290), dosage: '420 mg IV every 3 weeks', route: 'iv' });
  c.medicationRequest('goserelin', { medication: goserelin, text: 'goserelin 3.6 mg SC implant every 28 days (ovarian function suppression)', status: 'active', when: daysBefore(100), dosage: '3.6 mg SC every 28 days', route: 'sc', reason: 'Ovarian function suppression with endocrine therapy' });
  c.medicationRequest('exemestane', { medication: exemestane, status: 'active', when: daysBefore(90), dosage: '25 mg by mouth daily', route: 'oral' });
  calciumVitaminD(c, daysBefore(90));
  dxa(c, daysBefore(80), { spine: -0.9, femur: -0.6 });
  vitals(c, 'recent', timeBefore(9, '10:05'), { kg: 62, cm: 165 });
  smokingStatus(c, daysBefore(9), 'never');
  renalPanel(c, 'recent', timeBefore(9, '09:40'), { creatinine: 0.7, unit: 'mg/dL', egfr: 108 });
  calciumPanel(c, 'recent', timeBefore(9, '09:40'), { calcium: 9.6, calciumUnit: 'mg/dL', albumin: 4.3, albuminUnit: 'g/dL' });
  dentalExam(c, 'recent', daysBefore(40));
  c.familyHistory('mother', { relationship: { system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'MTH', display: 'mother' }, condition: 'Breast cancer', when: daysBefore(298), onsetAge: 52 });
  return c.resources;
}

function patient03(): Json[] {
  const c = new ChartBuilder('zol-03', 'zol03');
  c.patient({ given: ['Lucía'], family: 'Fernández', birthDate: '1988-09-21', city: 'Aurora', state: 'IL', mrn: 'DEMO-0003', language: 'Spanish' });
  breastCancer(c, { side: 'left', text: 'Invasive ductal carcinoma, left breast, ER+/PR+/HER2+ (IHC 2+, FISH amplified), pT2 pN0', onset: daysBefore(240), icd: 'C50.412', clinicalStatus: 'remission' });
  receptors(c, daysBefore(236), { er: 80, pr: 40, her2: 'ihc2-fish-amplified', fishRatio: 2.4 });
  surgery(c, daysBefore(215), 'lumpectomy', 'left', 'sentinel');
  pathologicStage(c, daysBefore(210), { stage: 'IIA', t: 'pT2', n: 'pN0' });
  menopausalStatus(c, daysBefore(236), 'premenopausal', 'Regular menstrual cycles; declined ovarian function suppression');
  c.medicationRequest('paclitaxel', { medication: paclitaxel, text: 'paclitaxel 80 mg/m² weekly ×12', status: 'completed', when: daysBefore(200), dosage: '80 mg/m² IV weekly for 12 weeks', route: 'iv' });
  antiHer2(c, daysBefore(200), 'active');
  c.medicationRequest('tamoxifen', { medication: tamoxifen, text: 'tamoxifen 20 mg daily', status: 'active', when: daysBefore(80), dosage: '20 mg (2 tablets) by mouth daily', route: 'oral' });
  vitals(c, 'recent', timeBefore(14, '11:00'), { kg: 70, cm: 168 });
  smokingStatus(c, daysBefore(14), 'never');
  renalPanel(c, 'recent', timeBefore(14, '10:30'), { creatinine: 65, unit: 'umol/L', egfr: 104 });
  calciumPanel(c, 'recent', timeBefore(14, '10:30'), { calcium: 2.35, calciumUnit: 'mmol/L', albumin: 42, albuminUnit: 'g/L' });
  dentalExam(c, 'recent', daysBefore(100));
  return c.resources;
}

function patient04(): Json[] {
  const c = new ChartBuilder('zol-04', 'zol04');
  c.patient({ given: ['Ingrid'], family: 'Halvorsen', birthDate: '1971-01-30', city: 'Rockford', state: 'IL', mrn: 'DEMO-0004' });
  breastCancer(c, { side: 'right', text: 'Invasive ductal carcinoma, right breast, ER−/PR−/HER2+ (3+), pT2 pN0', onset: daysBefore(150), icd: 'C50.911' });
  receptors(c, daysBefore(148), { er: 0, pr: 0, her2: 'ihc3' });
  surgery(c, daysBefore(120), 'lumpectomy', 'right', 'sentinel');
  pathologicStage(c, daysBefore(115), { stage: 'IIA', t: 'pT2', n: 'pN0' });
  menopausalStatus(c, daysBefore(148), 'postmenopausal', 'Natural menopause at 50');
  c.medicationRequest('paclitaxel', { medication: paclitaxel, text: 'paclitaxel 80 mg/m² weekly ×12 (with trastuzumab)', status: 'active', when: daysBefore(45), dosage: '80 mg/m² IV weekly for 12 weeks', route: 'iv' });
  antiHer2(c, daysBefore(45), 'active');
  c.medicationRequest('calcium-vitd', { medication: { text: 'calcium carbonate 600 mg / cholecalciferol 800 IU oral tablet' }, status: 'active', when: daysBefore(55), dosage: '1 tablet by mouth twice daily', route: 'oral', reason: 'Osteoporosis' });
  c.condition('osteoporosis', { code: { system: SCT, code: '64859006', display: 'Osteoporosis (disorder)' }, text: 'Osteoporosis (DXA lumbar spine T −2.6)', onset: daysBefore(60) });
  dxa(c, daysBefore(60), { spine: -2.6, femur: -2.2 });
  vitals(c, 'recent', timeBefore(7, '13:20'), { kg: 58, cm: 162 });
  smokingStatus(c, daysBefore(7), 'former');
  renalPanel(c, 'recent', timeBefore(7, '12:55'), { creatinine: 0.9, unit: 'mg/dL', egfr: 75 });
  calciumPanel(c, 'recent', timeBefore(7, '12:55'), { calcium: 9.2, calciumUnit: 'mg/dL', albumin: 4.0, albuminUnit: 'g/dL' });
  dentalExam(c, 'recent', daysBefore(30));
  return c.resources;
}

function patient05(): Json[] {
  const c = new ChartBuilder('zol-05', 'zol05');
  c.patient({ given: ['Grace', 'Wanjiru'], family: 'Mwangi', birthDate: '1973-04-11', city: 'Evanston', state: 'IL', mrn: 'DEMO-0005' });
  breastCancer(c, { side: 'left', text: 'Invasive ductal carcinoma, left breast, ER−/PR−/HER2+ (IHC 2+, FISH amplified), ypT2 ypN1, residual disease', onset: daysBefore(330), icd: 'C50.412', clinicalStatus: 'remission' });
  receptors(c, daysBefore(327), { er: 0, pr: 0, her2: 'ihc2-fish-amplified', fishRatio: 3.1 });
  c.medicationRequest('docetaxel', { medication: docetaxel, text: 'docetaxel 75 mg/m² (TCHP ×6)', status: 'completed', when: daysBefore(320), dosage: '75 mg/m² IV every 3 weeks ×6', route: 'iv' });
  surgery(c, daysBefore(180), 'mastectomy', 'left', 'axillary');
  pathologicStage(c, daysBefore(175), { stage: 'IIB', t: 'pT2', n: 'pN1' });
  menopausalStatus(c, daysBefore(327), 'postmenopausal');
  c.medicationRequest('tdm1', { medication: tdm1, text: 'ado-trastuzumab emtansine 3.6 mg/kg every 3 weeks ×14 (residual disease)', status: 'active', when: daysBefore(160), dosage: '3.6 mg/kg IV every 3 weeks', route: 'iv' });
  dxa(c, daysBefore(200), { spine: -0.4, femur: -0.2 });
  vitals(c, 'recent', timeBefore(20, '09:10'), { kg: 76, cm: 170 });
  smokingStatus(c, daysBefore(20), 'never');
  renalPanel(c, 'recent', timeBefore(20, '08:45'), { creatinine: 0.85, unit: 'mg/dL', egfr: 81 });
  calciumPanel(c, 'recent', timeBefore(20, '08:45'), { calcium: 9.5, calciumUnit: 'mg/dL' });
  dentalExam(c, 'recent', daysBefore(60));
  return c.resources;
}

function patient06(): Json[] {
  const c = new ChartBuilder('zol-06', 'zol06');
  c.patient({ given: ['Hannah'], family: 'Schulz', birthDate: '1977-08-05', city: 'Joliet', state: 'IL', mrn: 'DEMO-0006' });
  breastCancer(c, { side: 'right', text: 'Invasive lobular carcinoma, right breast, ER+/PR+/HER2+ (3+), pT1c pN1a', onset: daysBefore(260), icd: 'C50.911', clinicalStatus: 'remission' });
  receptors(c, daysBefore(257), { er: 95, pr: 70, her2: 'ihc3' });
  surgery(c, daysBefore(230), 'lumpectomy', 'right', 'sentinel');
  pathologicStage(c, daysBefore(225), { stage: 'IIA', t: 'pT1c', n: 'pN1' });
  c.medicationRequest('docetaxel', { medication: docetaxel, text: 'docetaxel 75 mg/m² (TCH ×6)', status: 'completed', when: daysBefore(215), dosage: '75 mg/m² IV every 3 weeks ×6', route: 'iv' });
  antiHer2(c, daysBefore(215), 'active');
  c.medicationRequest('tamoxifen', { medication: tamoxifen, text: 'tamoxifen 20 mg daily', status: 'active', when: daysBefore(70), dosage: '20 mg (2 tablets) by mouth daily', route: 'oral' });
  // Amenorrhoea after chemotherapy does not establish menopause (NCCN): the service must not infer it.
  c.condition('amenorrhea', { code: { system: SCT, code: '14302001', display: 'Amenorrhea (finding)' }, text: 'Amenorrhoea since chemotherapy', onset: daysBefore(150), category: 'encounter-diagnosis' });
  dxa(c, daysBefore(150), { spine: -1.0, femur: -0.7 });
  vitals(c, 'recent', timeBefore(11, '14:40'), { kg: 67, cm: 171 });
  smokingStatus(c, daysBefore(11), 'never');
  renalPanel(c, 'recent', timeBefore(11, '14:10'), { creatinine: 0.76, unit: 'mg/dL', egfr: 96 });
  calciumPanel(c, 'recent', timeBefore(11, '14:10'), { calcium: 9.3, calciumUnit: 'mg/dL', albumin: 4.2, albuminUnit: 'g/dL' });
  dentalExam(c, 'recent', daysBefore(50));
  return c.resources;
}

function patient07(): Json[] {
  const c = new ChartBuilder('zol-07', 'zol07');
  c.patient({ given: ['Dorothy', 'May'], family: 'Whitfield', birthDate: '1955-02-19', city: 'Peoria', state: 'IL', mrn: 'DEMO-0007' });
  breastCancer(c, { side: 'left', text: 'Invasive ductal carcinoma, left breast, ER+/PR+/HER2+ (3+), pT2 pN1a, treated 2021', onset: daysBefore(1950), icd: 'C50.412', clinicalStatus: 'remission' });
  receptors(c, daysBefore(1948), { er: 90, pr: 50, her2: 'ihc3' });
  surgery(c, daysBefore(1915), 'mastectomy', 'left', 'sentinel');
  pathologicStage(c, daysBefore(1910), { stage: 'IIB', t: 'pT2', n: 'pN1' });
  c.medicationRequest('paclitaxel', { medication: paclitaxel, text: 'paclitaxel 80 mg/m² weekly ×12', status: 'completed', when: daysBefore(1890), dosage: '80 mg/m² IV weekly for 12 weeks', route: 'iv' });
  antiHer2(c, daysBefore(1890), 'completed');
  c.medicationRequest('anastrozole', { medication: anastrozole, status: 'active', when: daysBefore(1850), dosage: '1 mg by mouth daily (extended adjuvant)', route: 'oral' });
  renalPanel(c, 'baseline', timeBefore(1846, '08:10'), { creatinine: 0.7, unit: 'mg/dL' });
  zoledronicCourse(c, [1840, 1658, 1476, 1294, 1112, 930, 748, 566, 384, 202]);
  calciumVitaminD(c, daysBefore(1840), daysBefore(20));
  dxa(c, daysBefore(300), { spine: -1.8, femur: -1.5 });
  vitals(c, 'recent', timeBefore(20, '10:00'), { kg: 72, cm: 160 });
  smokingStatus(c, daysBefore(20), 'never');
  renalPanel(c, 'recent', timeBefore(20, '09:30'), { creatinine: 0.8, unit: 'mg/dL', egfr: 75 });
  calciumPanel(c, 'recent', timeBefore(20, '09:30'), { calcium: 9.5, calciumUnit: 'mg/dL', albumin: 4.0, albuminUnit: 'g/dL' });
  dentalExam(c, 'recent', daysBefore(120));
  return c.resources;
}

function patient08(): Json[] {
  const c = new ChartBuilder('zol-08', 'zol08');
  c.patient({ given: ['Beatriz'], family: 'Santos', birthDate: '1963-07-08', city: 'Champaign', state: 'IL', mrn: 'DEMO-0008', language: 'Portuguese' });
  breastCancer(c, { side: 'right', text: 'Invasive ductal carcinoma, right breast, ER+/PR+/HER2+ (3+), pT2 pN2a', onset: daysBefore(860), icd: 'C50.911', clinicalStatus: 'remission' });
  receptors(c, daysBefore(858), { er: 100, pr: 80, her2: 'ihc3' });
  surgery(c, daysBefore(830), 'mastectomy', 'right', 'axillary');
  pathologicStage(c, daysBefore(825), { stage: 'IIIA', t: 'pT2', n: 'pN2a' });
  c.medicationRequest('doxorubicin', { medication: doxorubicin, text: 'doxorubicin 60 mg/m² (AC ×4)', status: 'completed', when: daysBefore(810), dosage: '60 mg/m² IV every 2 weeks ×4', route: 'iv' });
  c.medicationRequest('cyclophosphamide', { medication: cyclophosphamide, text: 'cyclophosphamide 600 mg/m² (AC ×4)', status: 'completed', when: daysBefore(810), dosage: '600 mg/m² IV every 2 weeks ×4', route: 'iv' });
  antiHer2(c, daysBefore(750), 'completed');
  c.medicationRequest('letrozole', { medication: letrozole, status: 'active', when: daysBefore(745), dosage: '2.5 mg by mouth daily', route: 'oral' });
  renalPanel(c, 'baseline', timeBefore(752, '08:20'), { creatinine: 0.72, unit: 'mg/dL', egfr: 92 });
  zoledronicCourse(c, [746, 564, 382, 200]);
  calciumVitaminD(c, daysBefore(746), daysBefore(20));
  dxa(c, daysBefore(250), { spine: -1.6, femur: -1.2 });
  vitals(c, 'recent', timeBefore(9, '09:15'), { kg: 80, cm: 160 });
  smokingStatus(c, daysBefore(9), 'never');
  renalPanel(c, 'recent', timeBefore(9, '08:40'), { creatinine: 0.75, unit: 'mg/dL', egfr: 88 });
  calciumPanel(c, 'recent', timeBefore(9, '08:40'), { calcium: 9.6, calciumUnit: 'mg/dL', albumin: 4.2, albuminUnit: 'g/dL' });
  dentalExam(c, 'recent', daysBefore(150));
  return c.resources;
}

function patient09(): Json[] {
  const c = new ChartBuilder('zol-09', 'zol09');
  c.patient({ given: ['Eleanor'], family: 'Brooks', birthDate: '1952-05-27', city: 'Decatur', state: 'IL', mrn: 'DEMO-0009' });
  breastCancer(c, { side: 'left', text: 'Invasive ductal carcinoma, left breast, ER+/PR−/HER2+ (3+), pT2 pN0', onset: daysBefore(230), icd: 'C50.412', clinicalStatus: 'remission' });
  receptors(c, daysBefore(228), { er: 70, pr: 0, her2: 'ihc3' });
  surgery(c, daysBefore(200), 'lumpectomy', 'left', 'sentinel');
  pathologicStage(c, daysBefore(195), { stage: 'IIA', t: 'pT2', n: 'pN0' });
  menopausalStatus(c, daysBefore(228), 'postmenopausal');
  c.condition('ckd', { code: [{ system: SCT, code: '431857002', display: 'Chronic kidney disease stage 4 (disorder)' }, { system: ICD10CM, code: 'N18.4', display: 'Chronic kidney disease, stage 4 (severe)' }], text: 'Chronic kidney disease stage 4 (diabetic nephropathy)', onset: daysBefore(1500) });
  c.condition('diabetes', { code: [{ system: SCT, code: '44054006', display: 'Diabetes mellitus type 2 (disorder)' }, { system: ICD10CM, code: 'E11.22', display: 'Type 2 diabetes mellitus with diabetic chronic kidney disease' }], text: 'Type 2 diabetes with diabetic CKD', onset: daysBefore(5000) });
  antiHer2(c, daysBefore(180), 'active');
  c.medicationRequest('letrozole', { medication: letrozole, status: 'active', when: daysBefore(120), dosage: '2.5 mg by mouth daily', route: 'oral' });
  dxa(c, daysBefore(100), { spine: -1.4, femur: -1.2 });
  vitals(c, 'recent', timeBefore(10, '10:20'), { kg: 52, cm: 158 });
  smokingStatus(c, daysBefore(10), 'never');
  renalPanel(c, 'recent', timeBefore(10, '09:50'), { creatinine: 141, unit: 'umol/L', egfr: 31 });
  calciumPanel(c, 'recent', timeBefore(10, '09:50'), { calcium: 2.3, calciumUnit: 'mmol/L', albumin: 37, albuminUnit: 'g/L' });
  dentalExam(c, 'recent', daysBefore(75));
  return c.resources;
}

function patient10(): Json[] {
  const c = new ChartBuilder('zol-10', 'zol10');
  c.patient({ given: ['Aiko'], family: 'Tanaka', birthDate: '1968-12-03', city: 'Schaumburg', state: 'IL', mrn: 'DEMO-0010', language: 'Japanese' });
  breastCancer(c, { side: 'right', text: 'Invasive ductal carcinoma, right breast, ER+/PR+/HER2+ (3+), pT1c pN1a', onset: daysBefore(480), icd: 'C50.911', clinicalStatus: 'remission' });
  receptors(c, daysBefore(478), { er: 90, pr: 30, her2: 'ihc3' });
  surgery(c, daysBefore(450), 'lumpectomy', 'right', 'sentinel');
  pathologicStage(c, daysBefore(445), { stage: 'IIA', t: 'pT1c', n: 'pN1' });
  menopausalStatus(c, daysBefore(478), 'postmenopausal', 'Natural menopause at 52');
  c.medicationRequest('paclitaxel', { medication: paclitaxel, text: 'paclitaxel 80 mg/m² weekly ×12', status: 'completed', when: daysBefore(430), dosage: '80 mg/m² IV weekly for 12 weeks', route: 'iv' });
  antiHer2(c, daysBefore(430), 'completed');
  c.medicationRequest('letrozole', { medication: letrozole, status: 'active', when: daysBefore(390), dosage: '2.5 mg by mouth daily', route: 'oral' });
  // Monthly labs since the first infusion: creatinine creeps up from a 0.70 mg/dL baseline.
  const creatinine = [0.7, 0.71, 0.72, 0.74, 0.76, 0.8, 0.83, 0.88, 0.94, 1.0, 1.06, 1.14, 1.25];
  creatinine.forEach((value, i) => {
    const days = 390 - i * 31 - (i === creatinine.length - 1 ? 9 : 0);
    renalPanel(c, `m${String(i).padStart(2, '0')}`, timeBefore(days, '08:15'), { creatinine: value, unit: 'mg/dL' });
    calciumPanel(c, `m${String(i).padStart(2, '0')}`, timeBefore(days, '08:15'), { calcium: 9.4, calciumUnit: 'mg/dL' });
  });
  zoledronicCourse(c, [384, 200]);
  calciumVitaminD(c, daysBefore(384), daysBefore(20));
  dxa(c, daysBefore(395), { spine: -1.2, femur: -0.9 });
  vitals(c, 'recent', timeBefore(6, '08:40'), { kg: 84, cm: 158 });
  smokingStatus(c, daysBefore(6), 'never');
  dentalExam(c, 'recent', daysBefore(160));
  c.condition('hypertension', { code: [{ system: SCT, code: '38341003', display: 'Hypertensive disorder, systemic arterial (disorder)' }, { system: ICD10CM, code: 'I10', display: 'Essential (primary) hypertension' }], text: 'Hypertension', onset: daysBefore(2500) });
  c.medicationRequest('ibuprofen', { medication: { system: RXNORM, code: '197806', display: 'ibuprofen 600 MG Oral Tablet' }, status: 'active', when: daysBefore(95), dosage: '600 mg by mouth three times daily as needed (arthralgia)', route: 'oral' });
  return c.resources;
}

function patient11(): Json[] {
  const c = new ChartBuilder('zol-11', 'zol11');
  c.patient({ given: ['Fatima'], family: 'Al-Sayed', birthDate: '1958-10-15', city: 'Cicero', state: 'IL', mrn: 'DEMO-0011', language: 'Arabic' });
  breastCancer(c, { side: 'left', text: 'Invasive ductal carcinoma, left breast, ER+/PR+/HER2+ (3+), pT2 pN1a', onset: daysBefore(210), icd: 'C50.412', clinicalStatus: 'remission' });
  receptors(c, daysBefore(208), { er: 85, pr: 20, her2: 'ihc3' });
  surgery(c, daysBefore(180), 'mastectomy', 'left', 'sentinel');
  pathologicStage(c, daysBefore(175), { stage: 'IIB', t: 'pT2', n: 'pN1' });
  menopausalStatus(c, daysBefore(208), 'postmenopausal');
  c.medicationRequest('paclitaxel', { medication: paclitaxel, text: 'paclitaxel 80 mg/m² weekly ×12', status: 'completed', when: daysBefore(170), dosage: '80 mg/m² IV weekly for 12 weeks', route: 'iv' });
  antiHer2(c, daysBefore(170), 'active');
  c.medicationRequest('anastrozole', { medication: anastrozole, status: 'active', when: daysBefore(75), dosage: '1 mg by mouth daily', route: 'oral' });
  c.condition('vitd-deficiency', { code: [{ system: SCT, code: '34713006', display: 'Vitamin D deficiency (disorder)' }, { system: ICD10CM, code: 'E55.9', display: 'Vitamin D deficiency, unspecified' }], text: 'Vitamin D deficiency (25-OH vitamin D 9 ng/mL)', onset: daysBefore(6) });
  dxa(c, daysBefore(90), { spine: -1.2, femur: -1.0 });
  vitals(c, 'recent', timeBefore(6, '09:00'), { kg: 70, cm: 163 });
  smokingStatus(c, daysBefore(6), 'never');
  renalPanel(c, 'recent', timeBefore(6, '08:30'), { creatinine: 71, unit: 'umol/L', egfr: 80 });
  calciumPanel(c, 'recent', timeBefore(6, '08:30'), { calcium: 1.95, calciumUnit: 'mmol/L', albumin: 38, albuminUnit: 'g/L', interpretation: 'L' });
  dentalExam(c, 'recent', daysBefore(60));
  return c.resources;
}

function patient12(): Json[] {
  const c = new ChartBuilder('zol-12', 'zol12');
  c.patient({ given: ['Janet'], family: 'Kowalski', birthDate: '1959-01-09', city: 'Elgin', state: 'IL', mrn: 'DEMO-0012' });
  breastCancer(c, { side: 'right', text: 'Invasive ductal carcinoma, right breast, ER+/PR+/HER2+ (3+), pT1c pN1a', onset: daysBefore(190), icd: 'C50.911', clinicalStatus: 'remission' });
  receptors(c, daysBefore(188), { er: 95, pr: 50, her2: 'ihc3' });
  surgery(c, daysBefore(165), 'lumpectomy', 'right', 'sentinel');
  pathologicStage(c, daysBefore(160), { stage: 'IIA', t: 'pT1c', n: 'pN1' });
  menopausalStatus(c, daysBefore(188), 'postmenopausal');
  c.medicationRequest('paclitaxel', { medication: paclitaxel, text: 'paclitaxel 80 mg/m² weekly ×12', status: 'completed', when: daysBefore(150), dosage: '80 mg/m² IV weekly for 12 weeks', route: 'iv' });
  antiHer2(c, daysBefore(150), 'active');
  c.medicationRequest('exemestane', { medication: exemestane, status: 'active', when: daysBefore(50), dosage: '25 mg by mouth daily', route: 'oral' });
  calciumVitaminD(c, daysBefore(50));
  dxa(c, daysBefore(120), { spine: -0.9, femur: -1.0 });
  vitals(c, 'recent', timeBefore(15, '15:30'), { lb: 172, inches: 66 });
  smokingStatus(c, daysBefore(15), 'never');
  renalPanel(c, 'recent', timeBefore(15, '15:00'), { creatinine: 0.9, unit: 'mg/dL', egfr: 70 });
  calciumPanel(c, 'recent', timeBefore(15, '15:00'), { calcium: 9.3, calciumUnit: 'mg/dL', albumin: 4.1, albuminUnit: 'g/dL' });
  // The last dental visit was long before the 6-month window.
  dentalExam(c, 'old', daysBefore(520), 'Routine check-up; no dental visit since');
  return c.resources;
}

function patient13(): Json[] {
  const c = new ChartBuilder('zol-13', 'zol13');
  c.patient({ given: ['Chloe'], family: 'Martin', birthDate: '1991-03-28', city: 'Oak Park', state: 'IL', mrn: 'DEMO-0013' });
  breastCancer(c, { side: 'right', text: 'Pregnancy-associated invasive ductal carcinoma, right breast, ER+/PR+/HER2+ (3+), pT2 pN0', onset: daysBefore(95), icd: 'C50.911' });
  receptors(c, daysBefore(93), { er: 60, pr: 30, her2: 'ihc3' });
  surgery(c, daysBefore(60), 'mastectomy', 'right', 'sentinel');
  pathologicStage(c, daysBefore(55), { stage: 'IIA', t: 'pT2', n: 'pN0' });
  menopausalStatus(c, daysBefore(93), 'premenopausal');
  c.condition('pregnancy', {
    code: [{ system: SCT, code: '77386006', display: 'Pregnant (finding)' }, { system: ICD10CM, code: 'Z33.1', display: 'Pregnant state, incidental' }],
    text: 'Pregnancy, 24 weeks’ gestation (EDD in 16 weeks)',
    onset: daysBefore(170),
  });
  c.observation('pregnancy-status', {
    code: { system: 'http://loinc.org', code: '82810-3', display: 'Pregnancy status' },
    category: 'social-history',
    when: daysBefore(8),
    valueConcept: { coding: { system: SCT, code: '77386006', display: 'Pregnant' }, text: 'Pregnant' },
  });
  // Anthracycline chemotherapy in the second trimester; anti-HER2 therapy deferred until after delivery.
  c.medicationRequest('doxorubicin', { medication: doxorubicin, text: 'doxorubicin 60 mg/m² (AC ×4, second trimester)', status: 'active', when: daysBefore(35), dosage: '60 mg/m² IV every 3 weeks ×4', route: 'iv' });
  c.medicationRequest('cyclophosphamide', { medication: cyclophosphamide, text: 'cyclophosphamide 600 mg/m² (AC ×4)', status: 'active', when: daysBefore(35), dosage: '600 mg/m² IV every 3 weeks ×4', route: 'iv' });
  vitals(c, 'recent', timeBefore(8, '10:30'), { kg: 68, cm: 167 });
  smokingStatus(c, daysBefore(8), 'never');
  renalPanel(c, 'recent', timeBefore(8, '10:00'), { creatinine: 0.55, unit: 'mg/dL', egfr: 124 });
  calciumPanel(c, 'recent', timeBefore(8, '10:00'), { calcium: 9.0, calciumUnit: 'mg/dL', albumin: 3.6, albuminUnit: 'g/dL' });
  dentalExam(c, 'recent', daysBefore(70), 'Prenatal dental check');
  return c.resources;
}

function patient14(): Json[] {
  const c = new ChartBuilder('zol-14', 'zol14');
  c.patient({ given: ['Rosa'], family: 'Delgado', birthDate: '1962-06-30', city: 'Waukegan', state: 'IL', mrn: 'DEMO-0014', language: 'Spanish' });
  breastCancer(c, { side: 'left', text: 'Invasive ductal carcinoma, left breast, ER+/PR+/HER2+ (3+), pT2 pN1a (2023); bone metastases 2026', onset: daysBefore(1100), icd: 'C50.412' });
  receptors(c, daysBefore(1098), { er: 85, pr: 40, her2: 'ihc3' });
  surgery(c, daysBefore(1070), 'mastectomy', 'left', 'sentinel');
  pathologicStage(c, daysBefore(1065), { stage: 'IIB', t: 'pT2', n: 'pN1' });
  menopausalStatus(c, daysBefore(1098), 'postmenopausal');
  c.condition('bone-mets', {
    code: [{ system: SCT, code: '94222008', display: 'Secondary malignant neoplasm of bone (disorder)' }, { system: ICD10CM, code: 'C79.51', display: 'Secondary malignant neoplasm of bone' }],
    text: 'Bone metastases (T8, L2, right ilium) from breast cancer',
    onset: daysBefore(60),
  });
  c.observation('restage', {
    code: { system: 'http://loinc.org', code: '21908-9', display: 'Stage group.clinical Cancer' },
    text: 'Clinical stage group at recurrence',
    category: 'laboratory',
    when: daysBefore(58),
    valueConcept: { coding: { system: SCT, code: '1222837003', display: 'American Joint Committee on Cancer stage IV (qualifier value)' }, text: 'Stage IV' },
  });
  antiHer2(c, daysBefore(50), 'active');
  c.medicationRequest('pertuzumab', { medication: pertuzumab, text: 'pertuzumab 420 mg IV every 3 weeks', status: 'active', when: daysBefore(50), dosage: '420 mg IV every 3 weeks', route: 'iv' });
  c.medicationRequest('docetaxel', { medication: docetaxel, text: 'docetaxel 75 mg/m² every 3 weeks (THP)', status: 'active', when: daysBefore(50), dosage: '75 mg/m² IV every 3 weeks', route: 'iv' });
  vitals(c, 'recent', timeBefore(5, '11:10'), { kg: 66, cm: 160 });
  smokingStatus(c, daysBefore(5), 'former');
  renalPanel(c, 'recent', timeBefore(5, '10:45'), { creatinine: 0.8, unit: 'mg/dL', egfr: 82 });
  calciumPanel(c, 'recent', timeBefore(5, '10:45'), { calcium: 9.8, calciumUnit: 'mg/dL', albumin: 4.0, albuminUnit: 'g/dL' });
  dentalExam(c, 'recent', daysBefore(30));
  return c.resources;
}

/** Revision 2: liver metastases coded only as a SNOMED site concept (no C78, no stage IV). */
function patient15(): Json[] {
  const c = new ChartBuilder('zol-15', 'zol15');
  c.patient({ given: ['Helen'], family: 'Kowalczyk', birthDate: '1958-09-03', city: 'Rockford', state: 'IL', mrn: 'DEMO-0015' });
  breastCancer(c, { side: 'right', text: 'Invasive ductal carcinoma, right breast, ER+/PR+/HER2+ (3+), pT2 pN1a', onset: daysBefore(200), icd: 'C50.911', clinicalStatus: 'active' });
  receptors(c, daysBefore(198), { er: 80, pr: 40, her2: 'ihc3' });
  surgery(c, daysBefore(170), 'mastectomy', 'right', 'axillary');
  pathologicStage(c, daysBefore(165), { stage: 'IIB', t: 'pT2', n: 'pN1' });
  c.condition('liver-metastasis', { code: { system: SCT, code: '94381002', display: 'Secondary malignant neoplasm of liver (disorder)' }, text: 'Liver lesions on staging CT, biopsy-proven', onset: daysBefore(30) });
  c.medicationRequest('letrozole', { medication: letrozole, status: 'active', when: daysBefore(120), dosage: '2.5 mg by mouth daily', route: 'oral' });
  dxa(c, daysBefore(110), { spine: -1.0, femur: -0.8 });
  vitals(c, 'recent', timeBefore(10, '09:00'), { kg: 70, cm: 163 });
  smokingStatus(c, daysBefore(10), 'never');
  renalPanel(c, 'recent', timeBefore(10, '08:40'), { creatinine: 0.8, unit: 'mg/dL', egfr: 80 });
  calciumPanel(c, 'recent', timeBefore(10, '08:40'), { calcium: 9.5, calciumUnit: 'mg/dL', albumin: 4.1, albuminUnit: 'g/dL' });
  dentalExam(c, 'recent', daysBefore(60));
  return c.resources;
}

/** Revision 2: a goserelin order still "active" from three years ago, never administered since. */
function patient16(): Json[] {
  const c = new ChartBuilder('zol-16', 'zol16');
  c.patient({ given: ['Aisha'], family: 'Bello', birthDate: '1984-01-22', city: 'Evanston', state: 'IL', mrn: 'DEMO-0016' });
  breastCancer(c, { side: 'left', text: 'Invasive ductal carcinoma, left breast, ER+/PR+/HER2+ (3+), pT2 pN1', onset: daysBefore(160), icd: 'C50.912', clinicalStatus: 'remission' });
  receptors(c, daysBefore(158), { er: 90, pr: 70, her2: 'ihc3' });
  surgery(c, daysBefore(130), 'lumpectomy', 'left', 'sentinel');
  pathologicStage(c, daysBefore(125), { stage: 'IIB', t: 'pT2', n: 'pN1' });
  menopausalStatus(c, daysBefore(158), 'premenopausal', 'Regular menses');
  c.medicationRequest('goserelin-2023', { medication: goserelin, text: 'goserelin 3.6 mg SC implant every 28 days (fertility preservation during earlier chemotherapy)', status: 'active', when: daysBefore(1100), dosage: '3.6 mg SC every 28 days', route: 'sc' });
  c.medicationRequest('tamoxifen', { medication: tamoxifen, status: 'active', when: daysBefore(100), dosage: '20 mg by mouth daily', route: 'oral' });
  dxa(c, daysBefore(90), { spine: -0.5, femur: -0.2 });
  vitals(c, 'recent', timeBefore(8, '14:00'), { kg: 64, cm: 168 });
  smokingStatus(c, daysBefore(8), 'never');
  renalPanel(c, 'recent', timeBefore(8, '13:30'), { creatinine: 0.7, unit: 'mg/dL', egfr: 105 });
  calciumPanel(c, 'recent', timeBefore(8, '13:30'), { calcium: 9.6, calciumUnit: 'mg/dL', albumin: 4.4, albuminUnit: 'g/dL' });
  dentalExam(c, 'recent', daysBefore(45));
  return c.resources;
}

/** Revision 2: a finished course (6 infusions over 3 years), the last one 14 months ago. */
function patient17(): Json[] {
  const c = new ChartBuilder('zol-17', 'zol17');
  c.patient({ given: ['Carmen'], family: 'Ortiz', birthDate: '1956-11-30', city: 'Joliet', state: 'IL', mrn: 'DEMO-0017', language: 'Spanish' });
  breastCancer(c, { side: 'right', text: 'Invasive lobular carcinoma, right breast, ER+/PR+/HER2+ (FISH amplified), pT2 pN1a, treated 2022', onset: daysBefore(1560), icd: 'C50.911', clinicalStatus: 'remission' });
  receptors(c, daysBefore(1558), { er: 95, pr: 60, her2: 'ihc3' });
  surgery(c, daysBefore(1530), 'mastectomy', 'right', 'sentinel');
  pathologicStage(c, daysBefore(1525), { stage: 'IIB', t: 'pT2', n: 'pN1' });
  c.medicationRequest('anastrozole', { medication: anastrozole, status: 'active', when: daysBefore(60), dosage: '1 mg by mouth daily', route: 'oral' });
  renalPanel(c, 'baseline', timeBefore(1510, '08:10'), { creatinine: 0.7, unit: 'mg/dL' });
  zoledronicCourse(c, [1505, 1323, 1141, 959, 777, 425], 'completed');
  calciumVitaminD(c, daysBefore(1505), daysBefore(25));
  dxa(c, daysBefore(200), { spine: -1.4, femur: -1.2 });
  vitals(c, 'recent', timeBefore(25, '10:00'), { kg: 68, cm: 158 });
  smokingStatus(c, daysBefore(25), 'never');
  renalPanel(c, 'recent', timeBefore(25, '09:30'), { creatinine: 0.8, unit: 'mg/dL', egfr: 74 });
  calciumPanel(c, 'recent', timeBefore(25, '09:30'), { calcium: 9.4, calciumUnit: 'mg/dL', albumin: 4.0, albuminUnit: 'g/dL' });
  dentalExam(c, 'recent', daysBefore(100));
  return c.resources;
}

/** id, story and expected rule ids per patient; `build` makes the chart. */
const DEFINITIONS: (Omit<DemoPatient, 'chart' | 'name'> & { build: () => Json[] })[] = [
  {
    id: 'zol-01', file: '01-postmenopausal-candidate.json', build: patient01,
    story: 'Postmenopausal (66), ER+/PR−/HER2+ stage IIA node-positive, on letrozole and Phesgo; DXA T −1.3, dental exam done, no calcium/vitamin D.',
    expected: { 'patient-view': ['PV-RECOMMEND', 'PV-CALCIUM-VITD'], 'order-select': ['OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'], 'order-sign': ['OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'] },
  },
  {
    id: 'zol-02', file: '02-premenopausal-ovarian-suppression.json', build: patient02,
    story: 'Premenopausal (41), ER+/PR+/HER2+ stage IIB, on goserelin (ovarian suppression) + exemestane; DXA normal, on calcium/vitamin D.',
    expected: { 'patient-view': ['PV-CONSIDER'], 'order-select': ['OS-VITAMIN-D', 'OS-ACUTE-PHASE'], 'order-sign': ['OS-VITAMIN-D', 'OS-ACUTE-PHASE'] },
  },
  {
    id: 'zol-03', file: '03-premenopausal-no-suppression.json', build: patient03,
    story: 'Premenopausal (38), ER+/PR+/HER2+ (IHC 2+, FISH amplified) stage IIA, on tamoxifen without ovarian suppression; labs in SI units.',
    expected: { 'patient-view': ['PV-NOT-FOR-RECURRENCE'], 'order-select': ['OS-INDICATION', 'OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'], 'order-sign': ['OS-INDICATION', 'OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'] },
  },
  {
    id: 'zol-04', file: '04-er-negative-osteoporosis.json', build: patient04,
    story: 'Postmenopausal (55), ER−/PR−/HER2+ stage IIA on weekly paclitaxel + trastuzumab; DXA T −2.6 (osteoporosis), former smoker, BMI 22.',
    expected: { 'patient-view': ['PV-OSTEOPOROSIS'], 'order-select': ['OS-VITAMIN-D', 'OS-ACUTE-PHASE'], 'order-sign': ['OS-VITAMIN-D', 'OS-ACUTE-PHASE'] },
  },
  {
    id: 'zol-05', file: '05-er-negative-normal-bone.json', build: patient05,
    story: 'Postmenopausal (53), ER−/PR−/HER2+ (IHC 2+, FISH amplified) stage IIB, residual disease on T-DM1; DXA T −0.4, no fracture risk factors.',
    expected: { 'patient-view': ['PV-ER-NEGATIVE'], 'order-select': ['OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'], 'order-sign': ['OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'] },
  },
  {
    id: 'zol-06', file: '06-menopausal-status-unknown.json', build: patient06,
    story: '49, ER+/PR+/HER2+ stage IIA, amenorrhoea since chemotherapy, menopausal status never documented, on tamoxifen.',
    expected: { 'patient-view': ['PV-MENOPAUSE-UNKNOWN'], 'order-select': ['OS-INDICATION', 'OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'], 'order-sign': ['OS-INDICATION', 'OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'] },
  },
  {
    id: 'zol-07', file: '07-zoledronic-five-years.json', build: patient07,
    story: '71, ER+/HER2+ stage IIB treated in 2021; zoledronic acid every 6 months for 5 years (10 infusions, last ~6.5 months ago), on anastrozole.',
    expected: { 'patient-view': ['PV-COURSE-COMPLETE'], 'order-select': ['OS-COURSE-COMPLETE'], 'order-sign': ['OS-COURSE-COMPLETE'] },
  },
  {
    id: 'zol-08', file: '08-next-dose-due.json', build: patient08,
    story: '63, ER+/HER2+ stage IIIA, zoledronic acid since 2 years (4 infusions), last infusion ~6.5 months ago; creatinine, dental exam and supplements up to date.',
    expected: { 'patient-view': ['PV-NEXT-DOSE'], 'order-select': [], 'order-sign': [] },
  },
  {
    id: 'zol-09', file: '09-renal-impairment.json', build: patient09,
    story: '74, 52 kg, ER+/HER2+ stage IIA on letrozole, CKD stage 4: creatinine 141 µmol/L → Cockcroft-Gault CrCl ≈ 25 mL/min.',
    expected: { 'patient-view': ['PV-CONTRAINDICATED'], 'order-select': ['OS-RENAL-SEVERE'], 'order-sign': ['OS-RENAL-SEVERE'] },
  },
  {
    id: 'zol-10', file: '10-creatinine-rise.json', build: patient10,
    story: '57, ER+/HER2+ stage IIA on zoledronic acid (2 infusions, next due); monthly creatinine rose from 0.70 to 1.25 mg/dL (26 labs: the searches page).',
    expected: { 'patient-view': ['PV-NEXT-DOSE'], 'order-select': ['OS-RENAL-DETERIORATION'], 'order-sign': ['OS-RENAL-DETERIORATION'] },
  },
  {
    id: 'zol-11', file: '11-hypocalcaemia.json', build: patient11,
    story: 'Postmenopausal (68), ER+/HER2+ stage IIB, vitamin D deficiency: calcium 1.95 mmol/L with albumin 38 g/L → corrected ≈ 8.0 mg/dL.',
    expected: { 'patient-view': ['PV-HYPOCALCEMIA', 'PV-RECOMMEND', 'PV-CALCIUM-VITD'], 'order-select': ['OS-HYPOCALCEMIA', 'OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'], 'order-sign': ['OS-HYPOCALCEMIA', 'OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'] },
  },
  {
    id: 'zol-12', file: '12-no-dental-exam.json', build: patient12,
    story: 'Postmenopausal (67), ER+/HER2+ stage IIA on exemestane, weight in lb; last dental examination 17 months ago.',
    expected: { 'patient-view': ['PV-RECOMMEND'], 'order-select': ['OS-DENTAL', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'], 'order-sign': ['OS-DENTAL', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'] },
  },
  {
    id: 'zol-13', file: '13-pregnant.json', build: patient13,
    story: '35, pregnancy-associated ER+/HER2+ stage IIA, 24 weeks pregnant, on AC chemotherapy in the second trimester; no DXA.',
    expected: { 'patient-view': ['PV-NOT-FOR-RECURRENCE'], 'order-select': ['OS-PREGNANCY', 'OS-INDICATION'], 'order-sign': ['OS-PREGNANCY', 'OS-INDICATION'] },
  },
  {
    id: 'zol-14', file: '14-metastatic.json', build: patient14,
    story: '64, ER+/HER2+ breast cancer (stage IIB in 2023) now with bone metastases (stage IV), on THP.',
    expected: { 'patient-view': ['PV-METASTATIC'], 'order-select': ['OS-INDICATION', 'OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'], 'order-sign': ['OS-INDICATION', 'OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'] },
  },
  {
    id: 'zol-15', file: '15-metastatic-by-site-code.json', build: patient15,
    story: '68, ER+/PR+/HER2+ stage IIB on letrozole; liver metastases coded only as a SNOMED site concept (revision 2: metastatic, no adjuvant offer).',
    expected: { 'patient-view': ['PV-METASTATIC'], 'order-select': ['OS-INDICATION', 'OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'], 'order-sign': ['OS-INDICATION', 'OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'] },
  },
  {
    id: 'zol-16', file: '16-stale-ovarian-suppression.json', build: patient16,
    story: 'Premenopausal (42), ER+/PR+/HER2+ stage IIB on tamoxifen; a goserelin order from three years ago is still "active", never given since (revision 2: stale).',
    expected: { 'patient-view': ['PV-NOT-FOR-RECURRENCE'], 'order-select': ['OS-INDICATION', 'OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'], 'order-sign': ['OS-INDICATION', 'OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'] },
  },
  {
    id: 'zol-17', file: '17-course-completed.json', build: patient17,
    story: '70, ER+/HER2+ stage IIB treated in 2022; 6 zoledronic acid infusions over 3 years, the last 14 months ago (revision 2: course complete, never a new course).',
    expected: { 'patient-view': ['PV-COURSE-COMPLETE'], 'order-select': ['OS-COURSE-COMPLETE'], 'order-sign': ['OS-COURSE-COMPLETE'] },
  },
];
function nameOf(chart: Json[]): string {
  const patient = chart.find((r) => r.resourceType === 'Patient') as { name: { given: string[]; family: string }[] };
  return `${patient.name[0]!.given[0]} ${patient.name[0]!.family}`;
}

export function demoPatients(): DemoPatient[] {
  return DEFINITIONS.map(({ build, ...rest }) => {
    const chart = build();
    return { ...rest, name: nameOf(chart), chart };
  });
}

/** A FHIR transaction Bundle: PUT with fixed ids, so reloading is idempotent and ids are stable. */
export function transactionBundle(chart: Json[]): Json {
  const resources = [PRACTITIONER, ...chart];
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    meta: { tag: [SYNTHETIC_TAG] },
    entry: resources.map((resource) => ({
      resource,
      request: { method: 'PUT', url: `${String(resource.resourceType)}/${String(resource.id)}` },
    })),
  };
}

export interface DemoManifest {
  anchorDate: string;
  description: string;
  patients: (Omit<DemoPatient, 'chart'>)[];
}

export function demoManifest(patients = demoPatients()): DemoManifest {
  return {
    anchorDate: ANCHOR_DATE,
    description:
      'Synthetic demo patients (no real person). Every date is written as if today were anchorDate; the demo FHIR server shifts all dates by (today − anchorDate) whole days when it loads them, so the stories stay true. expected: rule ids of the cards (card.source.topic.code), in order, per hook.',
    patients: patients.map(({ chart: _chart, ...rest }) => rest),
  };
}
