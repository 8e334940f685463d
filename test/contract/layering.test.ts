/**
 * The folders of src/ form layers (docs/architecture.md): a module may import from its own layer or a
 * lower one, never a higher one, so the engine can be read and tested without the app, and the
 * knowledge compiler without the engine. Import cycles between single modules are ESLint's job
 * (import-x/no-cycle, `npm run lint`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PROJECT_ROOT } from '../support/catalog';

const SRC = join(PROJECT_ROOT, 'src');

/** Layer of each top-level folder (or root module) of src/, lowest first. */
const LAYERS: readonly (readonly string[])[] = [
  ['schemas', 'security', 'types', 'errors', 'logging'],
  ['fhir', 'cds-hooks'],
  ['clinical'],
  ['knowledge'],
  ['engine'],
  ['config', 'store', 'audit', 'auth', 'metrics', 'operations'],
  ['routes', 'plugins', 'cli'],
  ['app', 'cluster', 'server'],
];

/** Known back-edges, each with the reason it is still there: none. */
const ALLOWED = new Set<string>([]);

function modulesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** 'engine' for src/engine/x.ts, 'app' for src/app.ts. */
function unitOf(file: string): string {
  const [first] = relative(SRC, file).split('/');
  return first!.replace(/\.ts$/, '');
}

function layerOf(unit: string): number {
  const layer = LAYERS.findIndex((units) => units.includes(unit));
  if (layer < 0) throw new Error(`src/${unit} has no layer: add it to LAYERS in this test and to docs/architecture.md`);
  return layer;
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']*)'/gms)].map((match) => resolve(dirname(file), match[1]!) + '.ts');
}

function backEdges(): string[] {
  const edges: string[] = [];
  for (const file of modulesUnder(SRC)) {
    for (const target of relativeImports(file)) {
      if (!target.startsWith(SRC + '/')) {
        edges.push(`${relative(SRC, file)} imports ${relative(PROJECT_ROOT, target)}, outside src/`);
        continue;
      }
      const edge = `${relative(SRC, file)} -> ${relative(SRC, target)}`;
      if (layerOf(unitOf(target)) > layerOf(unitOf(file)) && !ALLOWED.has(edge)) edges.push(edge);
    }
  }
  return edges;
}

test('src/ modules import only from their own layer or lower ones', () => {
  expect(backEdges()).toEqual([]);
});

test('every allowed back-edge still exists (remove it from ALLOWED once fixed)', () => {
  const present = new Set(modulesUnder(SRC).flatMap((file) => relativeImports(file).map((target) => `${relative(SRC, file)} -> ${relative(SRC, target)}`)));
  expect([...ALLOWED].filter((edge) => !present.has(edge))).toEqual([]);
});

test('the layer check sees imports: the engine does import the knowledge types', () => {
  // Guards against a parser that finds nothing and so passes vacuously.
  expect(relativeImports(join(SRC, 'engine', 'run-hook.ts'))).toContain(join(SRC, 'knowledge', 'types.ts'));
});
