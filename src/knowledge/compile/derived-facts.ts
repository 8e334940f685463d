import { CALCULATORS, coerceParam, type Calculator } from '../../clinical/calculators';
import type { DerivedFactDefinition } from '../../schemas/fact-mapping';
import { DRAFT_FACTS } from '../../clinical/zoledronic-acid-draft-facts';
import type { FactDef } from '../types';
import type { Problems } from './context';
import { idsDefinedBy, type FactEntry } from './facts';

/**
 * Derived facts (calculators over other facts): checks calculators, inputs and params, and orders them
 * so every input is computed before the facts that read it; a cycle is a problem.
 */
export function compileDerivedFacts(
  problems: Problems,
  entries: readonly FactEntry[],
  extracted: readonly FactDef[],
  factLabels: ReadonlyMap<string, string>,
  settings: ReadonlyMap<string, unknown>,
): FactDef[] {
  const derivedEntries = entries.filter((e): e is FactEntry<DerivedFactDefinition> => e.def.kind === 'derived');
  const pending = new Map<string, FactEntry<DerivedFactDefinition>>();
  for (const entry of derivedEntries) pending.set(entry.def.id, entry);
  for (const entry of derivedEntries) if (!checkCalculatorInputs(problems, entry, factLabels)) pending.delete(entry.def.id);

  const derived: FactDef[] = [];
  const available = new Set([...extracted.flatMap(idsDefinedBy), ...Object.keys(DRAFT_FACTS)]);
  let progressed = true;
  while (pending.size > 0 && progressed) {
    progressed = false;
    for (const [id, entry] of pending) {
      const { def } = entry;
      if (!Object.values(def.inputs).every((input) => available.has(input) || !factLabels.has(input))) continue;
      const calculator = CALCULATORS[def.calculator]!;
      const params = calculatorParams(problems, entry, calculator, settings);
      derived.push({ kind: 'derived', id, label: def.label, calculatorName: def.calculator, calculator, inputs: def.inputs, params, reads: [] });
      available.add(id);
      pending.delete(id);
      progressed = true;
    }
  }
  for (const { file, index } of pending.values()) problems.add(file, `facts[${index}].inputs`, 'derived facts depend on each other in a cycle');
  return derived;
}

/** False when the calculator is unknown (the fact cannot be compiled at all). */
function checkCalculatorInputs(problems: Problems, { file, index, def }: FactEntry<DerivedFactDefinition>, factLabels: ReadonlyMap<string, string>): boolean {
  const f = `facts[${index}]`;
  const calculator = CALCULATORS[def.calculator];
  if (!calculator) {
    problems.add(file, `${f}.calculator`, `unknown calculator '${def.calculator}' (known: ${Object.keys(CALCULATORS).join(', ')})`);
    return false;
  }
  const given = Object.keys(def.inputs).sort().join(',');
  const expected = [...calculator.inputs].sort().join(',');
  if (given !== expected) problems.add(file, `${f}.inputs`, `calculator '${def.calculator}' takes inputs ${expected}`);
  for (const [name, id] of Object.entries(def.inputs)) if (!factLabels.has(id)) problems.add(file, `${f}.inputs.${name}`, `unknown fact '${id}'`);
  return true;
}

/** The calculator's params, each given inline or as `{ setting }`, coerced to the declared type. */
function calculatorParams(
  problems: Problems,
  { file, index, def }: FactEntry<DerivedFactDefinition>,
  calculator: Calculator,
  settings: ReadonlyMap<string, unknown>,
): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(calculator.params)) {
    const raw = def.params?.[name];
    const field = `facts[${index}].params.${name}`;
    if (raw === undefined) {
      problems.add(file, field, `is required by calculator '${def.calculator}'`);
      continue;
    }
    const value = raw !== null && typeof raw === 'object' && 'setting' in raw ? settings.get(String((raw as { setting: unknown }).setting)) : raw;
    try {
      params[name] = coerceParam(type, value);
    } catch (error) {
      problems.add(file, field, `${(error as Error).message}${value === undefined ? ' (setting not found)' : ''}`);
    }
  }
  for (const name of Object.keys(def.params ?? {})) {
    if (!(name in calculator.params)) problems.add(file, `facts[${index}].params.${name}`, `calculator '${def.calculator}' has no parameter '${name}'`);
  }
  return params;
}
