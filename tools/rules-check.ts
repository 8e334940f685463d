/**
 * npm run rules:check — validates every knowledge file, checks that each rule has a citation, a
 * scenario where it fires and a near-miss where it does not, and that rules/README.md is current.
 * npm run rules:docs — rewrites rules/README.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadCatalog } from '../src/knowledge/knowledge-files-on-disk';
import { loadScenarios } from './knowledge/scenarios';
import { traceability } from './knowledge/traceability';

const root = resolve(__dirname, '..');
const write = process.argv.includes('--write');
try {
  const catalog = loadCatalog({ root });
  const report = traceability(catalog, loadScenarios(root));
  const readmePath = join(root, 'rules', 'README.md');
  if (write) {
    writeFileSync(readmePath, report.markdown);
    process.stdout.write(`wrote ${readmePath}\n`);
  } else {
    let current = '';
    try {
      current = readFileSync(readmePath, 'utf8');
    } catch {
      // missing: reported below
    }
    if (current !== report.markdown) report.problems.push('rules/README.md is out of date: run npm run rules:docs');
  }
  if (report.problems.length > 0) {
    process.stderr.write(`rules:check: ${report.problems.length} problem(s)\n${report.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  const rules = [...catalog.ruleSets.values()].reduce((n, s) => n + s.rules.length, 0);
  process.stdout.write(`rules:check: ${catalog.files.length} knowledge files valid; ${rules} rules, each cited and proven by scenarios\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
