/**
 * Summarises a V8 CPU profile (node --cpu-prof): self time by where the code lives (our modules,
 * each npm package, Node internals, GC) and the hottest functions. Used to write bench/README.md.
 *
 *   npx tsx bench/profile-summary.ts [file.cpuprofile]   (default: the newest in bench/profiles/)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function newestProfile(): string {
  const dir = join(__dirname, 'profiles');
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}: run npm run bench -- --profile first`);
  // A run leaves one profile per process; the service's is the largest.
  return join(dir, files.sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0]!);
}

function placeOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/dist\/(.+)\.js$/.exec(url) ?? /\/src\/(.+)\.ts$/.exec(url);
  return own ? `src/${own[1]}` : url;
}

const file = process.argv[2] ?? newestProfile();
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfMicros = new Map<number, number>();
profile.samples.forEach((id, i) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

const busy = [...selfMicros].filter(([id]) => byId.get(id)!.callFrame.functionName !== '(idle)');
const total = busy.reduce((sum, [, us]) => sum + us, 0);
const places = new Map<string, number>();
const functions = new Map<string, number>();
for (const [id, us] of busy) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const place = placeOf(url, functionName);
  places.set(place, (places.get(place) ?? 0) + us);
  const fn = `${functionName || '(anonymous)'}  ${place}:${lineNumber + 1}`;
  functions.set(fn, (functions.get(fn) ?? 0) + us);
}
const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
const top = (map: Map<string, number>, n: number) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => `${pct(us)}  ${name}`)
    .join('\n');

process.stdout.write(`${file}\nbusy CPU ${(total / 1000).toFixed(0)} ms (idle excluded)\n\nself time by place:\n${top(places, 20)}\n\nhottest functions:\n${top(functions, 30)}\n`);

// Inclusive time of our own functions (each sample counted once per function on its stack).
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
const inclusive = new Map<string, number>();
for (const [id, us] of busy) {
  const seen = new Set<string>();
  for (let current: number | undefined = id; current !== undefined; current = parentOf.get(current)) {
    const { functionName, url } = byId.get(current)!.callFrame;
    const place = placeOf(url, functionName);
    if (!place.startsWith('src/') && !['fastify', 'jose', 'ajv', 'better-sqlite3', 'pino', 'secure-json-parse', 'fhirpath'].includes(place)) continue;
    const key = `${functionName || '(anonymous)'}  ${place}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}
process.stdout.write(`\ninclusive time (our code and the main libraries):\n${top(inclusive, 40)}\n`);
