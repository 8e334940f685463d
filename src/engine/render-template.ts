import { describeDuration, formatDate, parseDuration } from '../fhir/dates';
import { PLACEHOLDER } from '../knowledge/placeholders';
import type { Facts } from '../schemas/facts';

/** What `{{…}}` placeholders in card texts and resource templates can read. */
export interface TemplateScope {
  facts: Facts;
  settings: ReadonlyMap<string, unknown>;
  context: { patientId: string; userId: string; encounterId?: string };
  now: number;
  draftReference?: string;
}

const WHOLE_PLACEHOLDER = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/;
const ISO_DURATION = /^P\d+[DWMY]$/;

type Resolved = string | number | boolean | undefined;

function resolve(path: string, scope: TemplateScope): Resolved {
  const [head, ...rest] = path.split('.');
  switch (head) {
    case 'fact': {
      const property = rest[rest.length - 1]!;
      const fact = scope.facts[rest.slice(0, -1).join('.')];
      if (!fact) return undefined;
      if (property === 'date') return fact.at === undefined ? undefined : formatDate(fact.at);
      if (property === 'reference') return fact.sources[0];
      if (property === 'display') return fact.display ?? (fact.value === undefined ? undefined : String(fact.value));
      return fact.value;
    }
    case 'setting': {
      const value = scope.settings.get(rest.join('.'));
      // Windows read as words on cards ("30 days"), so a threshold is written once, in the settings.
      if (typeof value === 'string' && ISO_DURATION.test(value)) return describeDuration(parseDuration(value));
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : undefined;
    }
    case 'context':
      return scope.context[rest[0] as keyof TemplateScope['context']];
    case 'user':
      return /^(Practitioner|PractitionerRole)\//.test(scope.context.userId) ? scope.context.userId : undefined;
    case 'now':
      return rest[0] === 'date' ? formatDate(scope.now) : new Date(scope.now).toISOString();
    case 'draft':
      return scope.draftReference;
    default:
      return undefined;
  }
}

/** Renders text; a placeholder without a value reads "unknown" (cards say what is missing). */
export function renderText(text: string, scope: TemplateScope): string {
  return text.replace(PLACEHOLDER, (_match, path: string) => {
    const value = resolve(path, scope);
    return value === undefined ? 'unknown' : String(value);
  });
}

/**
 * Renders a FHIR resource template. A string that is exactly one placeholder keeps the value's type
 * (a dose stays a number); a field whose placeholder has no value is dropped, and so is any object
 * or array left empty, so suggestions never carry null or empty members.
 */
export function renderResource(template: unknown, scope: TemplateScope): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(template);
    if (whole) return resolve(whole[1]!, scope);
    let missing = false;
    const text = template.replace(PLACEHOLDER, (_m, path: string) => {
      const value = resolve(path, scope);
      if (value === undefined) missing = true;
      return String(value);
    });
    return missing ? undefined : text;
  }
  if (Array.isArray(template)) {
    const items = template.map((item) => renderResource(item, scope)).filter((item) => item !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (template !== null && typeof template === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(template)) {
      const rendered = renderResource(value, scope);
      if (rendered !== undefined) out[key] = rendered;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return template;
}
