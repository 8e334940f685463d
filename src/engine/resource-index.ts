import type { CodeList, CodeSystems, ConceptMatch } from '../fhir/codes';
import { codingsOf, textsOf } from '../fhir/codes';
import type { AnyResource } from '../schemas/fhir-resource';

export type { AnyResource };

const MEDICATION_TYPES = new Set(['MedicationRequest', 'MedicationStatement', 'MedicationAdministration', 'MedicationDispense']);

/** Resolves a medication-bearing resource's medicationReference to a Medication (bundle, contained, fetched). */
export type MedicationLookup = (resource: AnyResource) => AnyResource | undefined;

/** The concepts that say what a resource is about: its code, or for medications the drug (and its ingredients). */
export function conceptsOf(resource: AnyResource, lookupMedication: MedicationLookup): unknown[] {
  if (MEDICATION_TYPES.has(resource.resourceType)) {
    const concepts: unknown[] = [];
    if (resource.medicationCodeableConcept) concepts.push(resource.medicationCodeableConcept);
    const reference = resource.medicationReference as { display?: unknown } | undefined;
    const medication = lookupMedication(resource);
    if (medication) {
      if (medication.code) concepts.push(medication.code);
      const ingredients = medication.ingredient;
      if (Array.isArray(ingredients)) {
        for (const ingredient of ingredients) {
          if (ingredient && typeof ingredient === 'object' && (ingredient as { itemCodeableConcept?: unknown }).itemCodeableConcept) {
            concepts.push((ingredient as { itemCodeableConcept: unknown }).itemCodeableConcept);
          }
        }
      }
    }
    // Epic and others put the drug name in the reference's display; usable for name matching only.
    if (reference && typeof reference.display === 'string') concepts.push({ text: reference.display });
    return concepts;
  }
  if (resource.resourceType === 'FamilyMemberHistory') {
    const conditions = resource.condition;
    if (!Array.isArray(conditions)) return [];
    return conditions.flatMap((c) => (c && typeof c === 'object' && (c as { code?: unknown }).code ? [(c as { code: unknown }).code] : []));
  }
  const code = resource.code;
  return code === undefined ? [] : [code];
}

export interface Candidate {
  resource: AnyResource;
  match: ConceptMatch;
}

/**
 * Per-request index of the chart: resources by type and by (system|code). Built once per request so
 * each fact's FHIRPath runs only over its few candidate resources, never over the whole chart.
 */
export class ResourceIndex {
  private readonly byType = new Map<string, AnyResource[]>();
  private readonly byKey = new Map<string, Map<string, AnyResource[]>>();
  private readonly memo = new Map<string, Candidate[]>();
  private readonly conceptCache = new Map<AnyResource, unknown[]>();

  constructor(
    resources: readonly AnyResource[],
    private readonly systems: CodeSystems,
    private readonly lookupMedication: MedicationLookup,
  ) {
    for (const resource of resources) {
      const list = this.byType.get(resource.resourceType) ?? [];
      list.push(resource);
      this.byType.set(resource.resourceType, list);
      const keys = this.byKey.get(resource.resourceType) ?? new Map<string, AnyResource[]>();
      this.byKey.set(resource.resourceType, keys);
      for (const concept of this.concepts(resource)) {
        for (const coding of codingsOf(concept)) {
          const key = systems.key(coding.system, coding.code);
          const bucket = keys.get(key);
          if (bucket) {
            if (bucket[bucket.length - 1] !== resource) bucket.push(resource);
          } else keys.set(key, [resource]);
        }
      }
    }
  }

  private concepts(resource: AnyResource): unknown[] {
    let concepts = this.conceptCache.get(resource);
    if (!concepts) {
      concepts = conceptsOf(resource, this.lookupMedication);
      this.conceptCache.set(resource, concepts);
    }
    return concepts;
  }

  ofType(resourceType: string): readonly AnyResource[] {
    return this.byType.get(resourceType) ?? [];
  }

  /** Resources of a type whose code (or drug) is in the list: by code, by prefix, or by name. */
  candidates(resourceType: string, list: CodeList): Candidate[] {
    const memoKey = `${resourceType} ${list.id}`;
    const cached = this.memo.get(memoKey);
    if (cached) return cached;
    const keys = this.byKey.get(resourceType);
    const found = new Set<AnyResource>();
    if (keys) {
      // Walk the smaller side: a chart holds a handful of codes per type, a value set may hold hundreds.
      if (keys.size <= list.keys.size || list.hasPrefixes) {
        for (const [key, resources] of keys) if (list.containsKey(key)) for (const resource of resources) found.add(resource);
      } else {
        for (const key of list.keys) for (const resource of keys.get(key) ?? []) found.add(resource);
      }
    }
    if (list.hasNames) {
      for (const resource of this.ofType(resourceType)) {
        if (found.has(resource)) continue;
        if (this.concepts(resource).some((concept) => textsOf(concept).some((text) => list.matchesName(text)))) found.add(resource);
      }
    }
    const result: Candidate[] = [];
    for (const resource of found) {
      const match = this.match(resource, list);
      if (match) result.push({ resource, match });
    }
    this.memo.set(memoKey, result);
    return result;
  }

  /** How a resource matches a list (code beats name); undefined when it does not. */
  match(resource: AnyResource, list: CodeList): ConceptMatch | undefined {
    let byName: ConceptMatch | undefined;
    for (const concept of this.concepts(resource)) {
      const match = list.matchConcept(concept);
      if (match?.by === 'code') return match;
      if (match && !byName) byName = match;
    }
    return byName;
  }

  get codeSystems(): CodeSystems {
    return this.systems;
  }
}

/** Resolves a medicationReference: contained ("#id"), then the known Medication resources. */
export function medicationLookup(known: ReadonlyMap<string, AnyResource>): MedicationLookup {
  return (resource: AnyResource): AnyResource | undefined => {
    const ref = (resource.medicationReference as { reference?: unknown } | undefined)?.reference;
    if (typeof ref !== 'string') return undefined;
    if (ref.startsWith('#')) {
      const contained = Array.isArray(resource.contained) ? (resource.contained as AnyResource[]) : [];
      return contained.find((c) => c && typeof c === 'object' && c.resourceType === 'Medication' && `#${String(c.id)}` === ref);
    }
    const direct = known.get(ref);
    if (direct) return direct;
    const relative = /(?:^|\/)(Medication\/[A-Za-z0-9\-.]{1,64})$/.exec(ref)?.[1];
    return relative ? known.get(relative) : undefined;
  };
}

export function referenceOf(resource: AnyResource): string {
  return resource.id ? `${resource.resourceType}/${resource.id}` : `${resource.resourceType}/(no id)`;
}
