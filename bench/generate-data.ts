/**
 * Deterministic benchmark data (seeded PRNG, fixed dates): writes bench/data/*.json.
 *   small.json      patient-view, full prefetch, ~15 KB, a few dozen resources
 *   heavy.json      patient-view, full prefetch, ~500 resources (8 years of labs), ~0.5 MB
 *   order.json      order-select with a zoledronic acid draft and full prefetch
 *   no-prefetch.json patient-view with only fhirServer (the chart is served by bench/fhir-server.ts)
 *   chart.json      the heavy chart's resources, for the local FHIR server
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyResource } from '../src/engine/resource-index';
import { chartOf, zoledronicDraft } from '../test/support/fixtures';
import { ELIGIBILITY, ORDER_SELECT, orderRequest, patientViewRequest, prefetchFor } from '../test/support/requests';

const OUT = join(__dirname, 'data');
const PATIENT = 'pt-candidate';

/** Mulberry32: a small seeded PRNG, so the data are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(20261127);
const day = 86_400_000;
const end = Date.parse('2026-11-20T08:00:00Z');

function lab(id: string, code: string, display: string, at: number, value: number, unit: string, ucum: string): AnyResource {
  return {
    resourceType: 'Observation',
    id,
    meta: { lastUpdated: new Date(at + 3_600_000).toISOString() },
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory', display: 'Laboratory' }] }],
    code: { coding: [{ system: 'http://loinc.org', code, display }], text: display },
    subject: { reference: `Patient/${PATIENT}`, display: 'Maren Lindqvist' },
    effectiveDateTime: new Date(at).toISOString(),
    issued: new Date(at + 3_600_000).toISOString(),
    performer: [{ reference: 'Organization/lab-1', display: 'Springfield Clinical Laboratory' }],
    valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: ucum },
    referenceRange: [{ low: { value: value * 0.7, unit, system: 'http://unitsofmeasure.org', code: ucum }, high: { value: value * 1.3, unit, system: 'http://unitsofmeasure.org', code: ucum } }],
  };
}

/** The candidate's chart plus eight years of monthly labs and vitals, past conditions and orders. */
function heavyChart(): AnyResource[] {
  const chart = chartOf('candidate-postmenopausal');
  for (let month = 0; month < 96; month += 1) {
    const at = end - month * 30 * day - Math.floor(random() * 5) * day;
    const r = () => Math.round(random() * 100) / 100;
    chart.push(lab(`cr-${month}`, '2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', at, 0.7 + r() * 0.3, 'mg/dL', 'mg/dL'));
    chart.push(lab(`ca-${month}`, '17861-6', 'Calcium [Mass/volume] in Serum or Plasma', at, 9 + r(), 'mg/dL', 'mg/dL'));
    chart.push(lab(`alb-${month}`, '1751-7', 'Albumin [Mass/volume] in Serum or Plasma', at, 3.8 + r() * 0.5, 'g/dL', 'g/dL'));
    chart.push(lab(`egfr-${month}`, '98979-8', 'Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)', at, 80 + Math.round(random() * 15), 'mL/min/1.73m2', 'mL/min/{1.73_m2}'));
    chart.push({ ...lab(`wt-${month}`, '29463-7', 'Body weight', at, 66 + r() * 4, 'kg', 'kg'), category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }] });
  }
  for (let i = 0; i < 25; i += 1) {
    chart.push({
      resourceType: 'Condition',
      id: `cond-hist-${i}`,
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: i % 3 ? 'resolved' : 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: ['I10', 'E78.5', 'J45.909', 'K21.9', 'M54.5'][i % 5]! }], text: ['Hypertension', 'Hyperlipidaemia', 'Asthma', 'GERD', 'Low back pain'][i % 5] },
      subject: { reference: `Patient/${PATIENT}` },
      onsetDateTime: new Date(end - (400 + i * 90) * day).toISOString().slice(0, 10),
    });
  }
  for (let i = 0; i < 30; i += 1) {
    chart.push({
      resourceType: 'MedicationRequest',
      id: `mr-hist-${i}`,
      status: i % 4 ? 'completed' : 'active',
      intent: 'order',
      medicationCodeableConcept: { text: ['amlodipine 5 mg tablet', 'atorvastatin calcium 20 MG Oral Tablet', 'omeprazole 20 mg capsule', 'ondansetron 8 mg tablet', 'albuterol inhaler'][i % 5] },
      subject: { reference: `Patient/${PATIENT}` },
      authoredOn: new Date(end - (30 + i * 60) * day).toISOString().slice(0, 10),
    });
  }
  return chart;
}

/** A realistic everyday chart: the candidate plus six months of labs and a few other problems. */
function smallChart(): AnyResource[] {
  return heavyChart().filter((r) => !/^(cr|ca|alb|egfr|wt)-(\d+)$/.test(r.id ?? '') || Number(/-(\d+)$/.exec(r.id!)![1]) < 2).filter((r) => !/^(cond|mr)-hist-(\d+)$/.test(r.id ?? '') || Number(/-(\d+)$/.exec(r.id!)![1]) < 1);
}

mkdirSync(OUT, { recursive: true });
const small = smallChart();
const heavy = heavyChart();
const write = (name: string, value: unknown) => {
  const text = JSON.stringify(value);
  writeFileSync(join(OUT, name), text);
  return text.length;
};
const sizes = {
  small: write('small.json', patientViewRequest({ patientId: PATIENT, prefetch: prefetchFor(ELIGIBILITY, small, PATIENT) })),
  heavy: write('heavy.json', patientViewRequest({ patientId: PATIENT, prefetch: prefetchFor(ELIGIBILITY, heavy, PATIENT) })),
  order: write('order.json', orderRequest('order-select', { patientId: PATIENT, prefetch: prefetchFor(ORDER_SELECT, small, PATIENT), draftOrders: [zoledronicDraft(PATIENT)] })),
  noPrefetch: write('no-prefetch.json', patientViewRequest({ patientId: PATIENT, fhirServer: 'http://127.0.0.1:0', accessToken: 'bench-fhir-access-token' })),
  chart: write('chart.json', small),
};
process.stdout.write(`bench data: ${JSON.stringify({ ...sizes, heavyResources: heavy.length })}\n`);
