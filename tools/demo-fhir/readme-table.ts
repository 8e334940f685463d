import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { readDemoManifest } from './load-demo-patients';

/**
 * The README's demo patient table, generated from examples/patients/manifest.json and the rule titles
 * in rules/sets/*.yaml (`npx tsx tools/demo-fhir/readme-table.ts` prints it; a test keeps the README
 * in step).
 */
const ROOT = resolve(__dirname, '..', '..');

export function ruleTitles(root = ROOT): Map<string, string> {
  const titles = new Map<string, string>();
  for (const file of ['patient-view.yaml', 'order.yaml']) {
    const set = parse(readFileSync(join(root, 'rules', 'sets', file), 'utf8')) as { rules: { id: string; title: string }[] };
    for (const rule of set.rules) titles.set(rule.id, rule.title);
  }
  return titles;
}

function cards(ids: readonly string[], titles: Map<string, string>): string {
  if (ids.length === 0) return '— (no card)';
  return ids.map((id) => `\`${id}\` ${titles.get(id) ?? '?'}`).join('<br>');
}

export function demoPatientTable(): string {
  const manifest = readDemoManifest();
  const titles = ruleTitles();
  const rows = manifest.patients.map((p) => {
    const order = JSON.stringify(p.expected['order-select']) === JSON.stringify(p.expected['order-sign'])
      ? cards(p.expected['order-select'], titles)
      : `select: ${cards(p.expected['order-select'], titles)}<br>sign: ${cards(p.expected['order-sign'], titles)}`;
    return `| \`${p.id}\` ${p.name} | ${p.story} | ${cards(p.expected['patient-view'], titles)} | ${order} |`;
  });
  return ['| Patient | Story | patient-view cards | order-select / order-sign cards (zoledronic acid 4 mg IV q6 months) |', '|---|---|---|---|', ...rows].join('\n');
}

if (require.main === module) process.stdout.write(`${demoPatientTable()}\n`);
