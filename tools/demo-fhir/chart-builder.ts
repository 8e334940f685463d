/**
 * Small builders for the synthetic demo charts (examples/patients/*.json). Dates are written as
 * "N days before the anchor date" so that the loader can move a whole chart to today by shifting
 * every date by the same number of days (see demo-dates.ts).
 */
export const ANCHOR_DATE = '2026-11-27';
const ANCHOR_MS = Date.parse(`${ANCHOR_DATE}T00:00:00Z`);

export const LOINC = 'http://loinc.org';
export const SCT = 'http://snomed.info/sct';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
export const CDT = 'http://www.ada.org/cdt';
export const UCUM = 'http://unitsofmeasure.org';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';

export type Json = Record<string, unknown>;
export interface Coding {
  system: string;
  code: string;
  display?: string;
}

/** "YYYY-MM-DD", `days` days before the anchor date. */
export function daysBefore(days: number): string {
  return new Date(ANCHOR_MS - days * 86_400_000).toISOString().slice(0, 10);
}

/** A local dateTime (US Central, fixed offset) `days` before the anchor date. */
export function timeBefore(days: number, time = '09:30'): string {
  return `${daysBefore(days)}T${time}:00-06:00`;
}

export const SYNTHETIC_TAG = { system: 'urn:zoledronic-cds:demo', code: 'synthetic', display: 'Synthetic demo patient: not a real person' };

export function concept(codings: Coding | Coding[], text?: string): Json {
  return { coding: Array.isArray(codings) ? codings : [codings], ...(text ? { text } : {}) };
}

export function quantity(value: number, unit: string, code = unit): Json {
  return { value, unit, system: UCUM, code };
}

export interface ObservationInput {
  code: Coding | Coding[];
  text?: string;
  category: 'laboratory' | 'vital-signs' | 'imaging' | 'social-history' | 'exam' | 'survey';
  when: string;
  value?: Json;
  valueConcept?: { coding?: Coding | Coding[]; text?: string };
  valueString?: string;
  interpretation?: Coding;
  note?: string;
  bodySite?: Coding;
  profile?: string;
}

export interface MedicationInput {
  medication: Coding | { text: string };
  text?: string;
  when: string;
  /** MedicationStatement.dateAsserted: when the list was last reconciled (default: `when`). */
  asserted?: string;
  status: string;
  dosage?: string;
  dose?: Json;
  route?: 'oral' | 'iv' | 'sc';
  reason?: string;
}

const ROUTES: Record<string, Coding> = {
  oral: { system: SCT, code: '26643006', display: 'Oral route' },
  iv: { system: SCT, code: '47625008', display: 'Intravenous route' },
  sc: { system: SCT, code: '34206005', display: 'Subcutaneous route' },
};

/** One patient's chart: resources get ids `<prefix>-<suffix>` and reference the patient. */
export class ChartBuilder {
  readonly resources: Json[] = [];
  private readonly subject: Json;

  constructor(
    readonly patientId: string,
    private readonly prefix: string,
  ) {
    this.subject = { reference: `Patient/${patientId}` };
  }

  private add(resourceType: string, suffix: string, body: Json): Json {
    const resource = { resourceType, id: `${this.prefix}-${suffix}`, ...body };
    this.resources.push(resource);
    return resource;
  }

  patient(input: { given: string[]; family: string; birthDate: string; city: string; state: string; mrn: string; language?: string }): this {
    this.resources.unshift({
      resourceType: 'Patient',
      id: this.patientId,
      meta: { tag: [SYNTHETIC_TAG] },
      identifier: [{ use: 'usual', type: { text: 'Medical record number' }, system: 'urn:zoledronic-cds:demo:mrn', value: input.mrn }],
      active: true,
      name: [{ use: 'official', family: input.family, given: input.given }],
      gender: 'female',
      birthDate: input.birthDate,
      address: [{ use: 'home', city: input.city, state: input.state, country: 'US' }],
      ...(input.language ? { communication: [{ language: { text: input.language }, preferred: true }] } : {}),
      generalPractitioner: [{ reference: 'Practitioner/demo-oncologist', display: 'Dr. Demo Oncologist' }],
    });
    return this;
  }

  condition(
    suffix: string,
    input: { code: Coding | Coding[]; text: string; onset: string; clinicalStatus?: string; category?: 'problem-list-item' | 'encounter-diagnosis'; note?: string; bodySite?: string },
  ): this {
    this.add('Condition', suffix, {
      clinicalStatus: concept({ system: CONDITION_CLINICAL, code: input.clinicalStatus ?? 'active' }),
      verificationStatus: concept({ system: CONDITION_VERIFICATION, code: 'confirmed' }),
      category: [concept({ system: CONDITION_CATEGORY, code: input.category ?? 'problem-list-item' })],
      code: concept(input.code, input.text),
      ...(input.bodySite ? { bodySite: [{ text: input.bodySite }] } : {}),
      subject: this.subject,
      onsetDateTime: input.onset,
      recordedDate: input.onset,
      ...(input.note ? { note: [{ text: input.note }] } : {}),
    });
    return this;
  }

  observation(suffix: string, input: ObservationInput): this {
    const valueConcept = input.valueConcept
      ? { valueCodeableConcept: { ...(input.valueConcept.coding ? { coding: ([] as Coding[]).concat(input.valueConcept.coding) } : {}), ...(input.valueConcept.text ? { text: input.valueConcept.text } : {}) } }
      : {};
    this.add('Observation', suffix, {
      ...(input.profile ? { meta: { profile: [input.profile] } } : {}),
      status: 'final',
      category: [concept({ system: OBS_CATEGORY, code: input.category })],
      code: concept(input.code, input.text),
      subject: this.subject,
      effectiveDateTime: input.when,
      issued: input.when.length > 10 ? input.when : `${input.when}T12:00:00-06:00`,
      ...(input.value ? { valueQuantity: input.value } : {}),
      ...valueConcept,
      ...(input.valueString ? { valueString: input.valueString } : {}),
      ...(input.interpretation ? { interpretation: [concept(input.interpretation)] } : {}),
      ...(input.bodySite ? { bodySite: concept(input.bodySite) } : {}),
      ...(input.note ? { note: [{ text: input.note }] } : {}),
    });
    return this;
  }

  private medication(input: MedicationInput): Json {
    return 'code' in input.medication
      ? { medicationCodeableConcept: concept(input.medication, input.text) }
      : { medicationCodeableConcept: { text: input.medication.text } };
  }

  private dosage(input: MedicationInput): Json[] | undefined {
    if (!input.dosage && !input.dose) return undefined;
    return [
      {
        ...(input.dosage ? { text: input.dosage } : {}),
        ...(input.route ? { route: concept(ROUTES[input.route]!) } : {}),
        ...(input.dose ? { doseAndRate: [{ doseQuantity: input.dose }] } : {}),
      },
    ];
  }

  medicationRequest(suffix: string, input: MedicationInput): this {
    const dosage = this.dosage(input);
    this.add('MedicationRequest', suffix, {
      status: input.status,
      intent: 'order',
      ...this.medication(input),
      subject: this.subject,
      authoredOn: input.when,
      requester: { reference: 'Practitioner/demo-oncologist' },
      ...(input.reason ? { reasonCode: [{ text: input.reason }] } : {}),
      ...(dosage ? { dosageInstruction: dosage } : {}),
    });
    return this;
  }

  medicationStatement(suffix: string, input: MedicationInput): this {
    const dosage = this.dosage(input);
    this.add('MedicationStatement', suffix, {
      status: input.status,
      ...this.medication(input),
      subject: this.subject,
      effectiveDateTime: input.when,
      dateAsserted: input.asserted ?? input.when,
      ...(dosage ? { dosage } : {}),
    });
    return this;
  }

  medicationAdministration(suffix: string, input: MedicationInput): this {
    this.add('MedicationAdministration', suffix, {
      status: input.status,
      ...this.medication(input),
      subject: this.subject,
      effectiveDateTime: input.when,
      ...(input.dose
        ? { dosage: { ...(input.dosage ? { text: input.dosage } : {}), ...(input.route ? { route: concept(ROUTES[input.route]!) } : {}), dose: input.dose } }
        : {}),
    });
    return this;
  }

  /** A medication given with its own contained Medication (as many EHRs send combination products). */
  medicationRequestContained(suffix: string, input: { text: string; status: string; when: string; dosage?: string; reason?: string }): this {
    this.add('MedicationRequest', suffix, {
      status: input.status,
      intent: 'order',
      contained: [{ resourceType: 'Medication', id: 'med', code: { text: input.text } }],
      medicationReference: { reference: '#med', display: input.text },
      subject: this.subject,
      authoredOn: input.when,
      requester: { reference: 'Practitioner/demo-oncologist' },
      ...(input.reason ? { reasonCode: [{ text: input.reason }] } : {}),
      ...(input.dosage ? { dosageInstruction: [{ text: input.dosage }] } : {}),
    });
    return this;
  }

  procedure(suffix: string, input: { code: Coding | Coding[]; text: string; when: string; status?: string; bodySite?: string; note?: string }): this {
    this.add('Procedure', suffix, {
      status: input.status ?? 'completed',
      code: concept(input.code, input.text),
      subject: this.subject,
      performedDateTime: input.when,
      ...(input.bodySite ? { bodySite: [{ text: input.bodySite }] } : {}),
      ...(input.note ? { note: [{ text: input.note }] } : {}),
    });
    return this;
  }

  allergy(suffix: string, input: { code: Coding | { text: string }; text: string; when: string; reaction?: string; category?: string }): this {
    this.add('AllergyIntolerance', suffix, {
      clinicalStatus: concept({ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }),
      verificationStatus: concept({ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }),
      category: [input.category ?? 'medication'],
      code: 'code' in input.code ? concept(input.code, input.text) : { text: input.text },
      patient: this.subject,
      recordedDate: input.when,
      ...(input.reaction ? { reaction: [{ manifestation: [{ text: input.reaction }] }] } : {}),
    });
    return this;
  }

  familyHistory(suffix: string, input: { relationship: Coding; condition: string; when: string; onsetAge?: number }): this {
    this.add('FamilyMemberHistory', suffix, {
      status: 'completed',
      patient: this.subject,
      date: input.when,
      relationship: concept(input.relationship),
      condition: [{ code: { text: input.condition }, ...(input.onsetAge ? { onsetAge: { value: input.onsetAge, unit: 'a', system: UCUM, code: 'a' } } : {}) }],
    });
    return this;
  }
}
