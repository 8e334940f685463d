import type { DraftContext } from '../clinical/zoledronic-acid-draft-facts';
import type { CodeList, NamedProduct, Product } from '../fhir/codes';
import { textsOf } from '../fhir/codes';
import { conceptsOf, type AnyResource } from './resource-index';


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
        product: best.product ?? productFromText(texts, trigger.namedProducts),
      };
    }
  }
  if (first) first.triggeringCount = count;
  return first;
}

/** The first brand name of the trigger list in the text, read before or after a written strength. */
function namedProduct(text: string, named: readonly NamedProduct[], afterWrittenStrength: boolean): Product | undefined {
  for (const entry of named) if (entry.afterWrittenStrength === afterWrittenStrength && entry.pattern.test(text)) return { ...entry.product };
  return undefined;
}

/**
 * "zoledronic acid 5 mg/100 mL", "100 ML zoledronic acid 0.04 MG/ML", a brand the trigger list names
 * (code list `productNames`) → product strength.
 */
function productFromText(texts: readonly string[], named: readonly NamedProduct[]): Product | undefined {
  for (const text of texts) {
    const byName = namedProduct(text, named, false);
    if (byName) return byName;
    const total = /(\d+(?:\.\d+)?)\s*mg\s*(?:\/|per|in)\s*(\d+(?:\.\d+)?)\s*ml\b/i.exec(text);
    if (total) return { totalMg: Number(total[1]), volumeMl: Number(total[2]), mgPerMl: Number(total[1]) / Number(total[2]) };
    const concentration = /(\d+(?:\.\d+)?)\s*mg\s*\/\s*ml\b/i.exec(text);
    const volume = /^(\d+(?:\.\d+)?)\s*ml\b/i.exec(text.trim());
    if (concentration && volume) {
      const mgPerMl = Number(concentration[1]);
      const volumeMl = Number(volume[1]);
      return { totalMg: Math.round(mgPerMl * volumeMl * 1000) / 1000, volumeMl, mgPerMl };
    }
    const afterStrength = namedProduct(text, named, true);
    if (afterStrength) return afterStrength;
  }
  return undefined;
}
