/**
 * The engine alone, in process: request validation + runHook (extract facts, rules, cards) on the
 * bench data, without HTTP, JSON parsing, JWT or the store. Separates what the engine costs from
 * what the server around it costs; run it under `node --cpu-prof` to profile the engine only.
 *
 *   npx tsx bench/engine.ts [small|heavy|order ...]      (data from: npx tsx bench/generate-data.ts)
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runHook, type HookDeps } from '../src/engine/run-hook';
import { validateHookRequest } from '../src/engine/validate-request';
import { FhirClient } from '../src/fhir/fhir-client';
import { loadCatalog } from '../src/knowledge/knowledge-files-on-disk';

const ROOT = resolve(__dirname, '..');
const SCENARIOS: Record<string, { file: string; serviceId: string }> = {
  small: { file: 'small.json', serviceId: 'zoledronic-acid-eligibility' },
  heavy: { file: 'heavy.json', serviceId: 'zoledronic-acid-eligibility' },
  order: { file: 'order.json', serviceId: 'zoledronic-acid-order-select' },
};

async function main(): Promise<void> {
  const catalog = loadCatalog({ root: ROOT });
  const deps: HookDeps = {
    catalog,
    fhirClient: new FhirClient({ maxPages: 1, maxResponseBytes: 1024, maxResources: 1 }),
    now: () => Date.parse('2026-11-27T09:00:00Z'),
    uuid: randomUUID,
    fhirTimeoutMs: 2000,
    maxMedicationReads: 50,
  };
  const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(SCENARIOS);
  for (const name of names) {
    const scenario = SCENARIOS[name];
    if (!scenario) throw new Error(`unknown scenario ${name}; one of ${Object.keys(SCENARIOS).join(', ')}`);
    const text = readFileSync(join(__dirname, 'data', scenario.file), 'utf8');
    const service = catalog.services.get(scenario.serviceId)!;
    // Each iteration gets a fresh parse (untimed), as each HTTP request does.
    const once = async () => {
      const body = JSON.parse(text) as unknown;
      const started = process.hrtime.bigint();
      const outcome = await runHook(service, validateHookRequest(service, body), deps);
      return { ns: Number(process.hrtime.bigint() - started), cards: outcome.cards.length };
    };
    for (let i = 0; i < 300; i += 1) await once();
    const iterations = name === 'heavy' ? 1000 : 5000;
    let total = 0;
    let cards = 0;
    for (let i = 0; i < iterations; i += 1) {
      const run = await once();
      total += run.ns;
      cards = run.cards;
    }
    process.stdout.write(`${name}: ${(total / iterations / 1000).toFixed(1)} µs per call (${cards} cards, ${iterations} calls)\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
