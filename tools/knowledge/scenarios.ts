import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { AnyResource } from '../../src/schemas/fhir-resource';
import { ScenarioSchema, type Scenario } from '../../src/schemas/scenario';
import { createAjv, summarizeErrors } from '../../src/knowledge/ajv';
import { hookModuleFor, knownHookNames } from '../../src/cds-hooks/registry';

export interface LoadedScenario {
  /** Path relative to the project root. */
  file: string;
  scenario: Scenario;
  chart: AnyResource[];
}

function walk(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return name.endsWith('.json') ? [path] : [];
  });
}

function baseChart(fixturesDir: string, base: string): AnyResource[] {
  const bundle = JSON.parse(readFileSync(join(fixturesDir, `${base}.json`), 'utf8')) as { entry?: { resource: AnyResource }[] };
  return (bundle.entry ?? []).map((e) => e.resource);
}

/**
 * Reads every clinical scenario (test/scenarios/**.json), validates it, and assembles its chart from
 * the base chart (test/fixtures/patients/<base>.json) minus `remove` plus `add`.
 */
export function loadScenarios(root: string): LoadedScenario[] {
  const validate = createAjv().compile<Scenario>(ScenarioSchema);
  const fixturesDir = join(root, 'test', 'fixtures', 'patients');
  return walk(join(root, 'test', 'scenarios')).map((path) => {
    const file = relative(root, path);
    const data = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (!validate(data)) throw new Error(`${file}: ${summarizeErrors(validate.errors).map((e) => `${e.field} ${e.message}`).join('; ')}`);
    const scenario = data;
    if (!hookModuleFor(scenario.hook)) throw new Error(`${file}: hook: unknown hook '${scenario.hook}' (known: ${knownHookNames().join(', ')})`);
    let chart: AnyResource[] = scenario.base ? baseChart(fixturesDir, scenario.base) : [];
    const removed = new Set(scenario.remove ?? []);
    for (const id of removed) {
      if (!chart.some((r) => r.id === id)) throw new Error(`${file}: remove: no resource '${id}' in base '${String(scenario.base)}'`);
    }
    chart = chart.filter((r) => !removed.has(r.id ?? ''));
    for (const resource of (scenario.add ?? []) as AnyResource[]) {
      chart = chart.filter((r) => !(r.resourceType === resource.resourceType && r.id === resource.id));
      chart.push(resource);
    }
    return { file, scenario, chart };
  });
}
