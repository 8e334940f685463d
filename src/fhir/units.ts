import { UcumLhcUtils } from '@lhncbc/ucum-lhc';

const ucumUtils = UcumLhcUtils.getInstance();
const UCUM_SYSTEM = 'http://unitsofmeasure.org';

export interface QuantityLike {
  value?: unknown;
  unit?: unknown;
  code?: unknown;
  system?: unknown;
  comparator?: unknown;
}

export type Conversion =
  | { ok: true; value: number; fromUnit: string }
  | { ok: false; reason: string };

/**
 * Converts a FHIR Quantity to `targetUnit` with UCUM (NLM ucum-lhc). The UCUM `code` is preferred;
 * the human `unit` is tried next, through the alias table for spellings real systems send
 * ("µmol/L", "lbs"). A unit that cannot be converted is an error, never read as the target unit.
 */
export class UnitConverter {
  constructor(private readonly aliases: Record<string, string>) {}

  /** Candidate UCUM codes for a quantity, most trustworthy first. */
  private unitCandidates(quantity: QuantityLike): string[] {
    const out: string[] = [];
    const push = (unit: unknown) => {
      if (typeof unit !== 'string' || unit.trim() === '') return;
      const trimmed = unit.trim();
      const alias = this.aliases[trimmed] ?? this.aliases[trimmed.toLowerCase()];
      for (const candidate of [alias, trimmed]) if (candidate && !out.includes(candidate)) out.push(candidate);
    };
    if (quantity.system === undefined || quantity.system === UCUM_SYSTEM) push(quantity.code);
    push(quantity.unit);
    return out;
  }

  convert(quantity: QuantityLike, targetUnit: string, molarMass?: number): Conversion {
    const value = numericValue(quantity.value);
    if (value === undefined) return { ok: false, reason: 'no numeric value' };
    if (quantity.comparator !== undefined) return { ok: false, reason: `value has comparator '${String(quantity.comparator)}'` };
    // Already in the target unit (most results): the answer unitCandidates() would reach first.
    const code = quantity.code;
    if (code === targetUnit && (quantity.system === undefined || quantity.system === UCUM_SYSTEM) && this.aliases[code] === undefined && this.aliases[code.toLowerCase()] === undefined) {
      return { ok: true, value, fromUnit: code };
    }
    const candidates = this.unitCandidates(quantity);
    if (candidates.length === 0) return { ok: false, reason: 'no unit' };
    for (const unit of candidates) {
      if (unit === targetUnit) return { ok: true, value, fromUnit: unit };
      const result = ucumUtils.convertUnitTo(unit, value, targetUnit, molarMass ? { molecularWeight: molarMass } : undefined) as {
        status: string;
        toVal: number | null;
      };
      if (result.status === 'succeeded' && typeof result.toVal === 'number' && Number.isFinite(result.toVal)) {
        return { ok: true, value: result.toVal, fromUnit: unit };
      }
    }
    const shown = typeof quantity.unit === 'string' ? quantity.unit : String(candidates[0]);
    return { ok: false, reason: `unit '${shown}' cannot be converted to ${targetUnit}` };
  }

  /** Checks at start-up that a unit in a mapping file is valid UCUM. */
  static isValidUcum(unit: string): boolean {
    const result = ucumUtils.validateUnitString(unit) as { status: string };
    return result.status === 'valid';
  }
}

/** FHIR decimals are JSON numbers; a string is malformed data and is not read as a value. */
export function numericValue(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  // fhirpath may hand back FP_Decimal-like wrappers
  if (raw !== null && typeof raw === 'object' && typeof (raw as { valueOf?: unknown }).valueOf === 'function') {
    const unwrapped = (raw as { valueOf: () => unknown }).valueOf();
    if (typeof unwrapped === 'number' && Number.isFinite(unwrapped)) return unwrapped;
  }
  return undefined;
}
