import { join } from '../knowledge-files';
import { NamedConditionsFileSchema, type ConditionNode } from '../../schemas/rule';
import type { CompileContext, Problems } from './context';
import type { WindowResolver } from './settings';

const CONDITIONS_FILE = 'rules/conditions.yaml';

/** Checks a condition's references and replaces settings and durations with their values. */
export type ConditionResolver = (file: string, field: string, node: ConditionNode) => ConditionNode;

export interface CompiledConditions {
  /** Named conditions, resolved. */
  conditions: Map<string, ConditionNode>;
  /** The names defined in rules/conditions.yaml (also those whose resolution found problems). */
  names: ReadonlySet<string>;
  resolve: ConditionResolver;
}

export interface ConditionDeps {
  factLabels: ReadonlyMap<string, string>;
  settings: ReadonlyMap<string, unknown>;
  window: WindowResolver;
}

export function readNamedConditions(ctx: CompileContext, rulesDir: string): Record<string, ConditionNode> {
  return ctx.read<{ conditions: Record<string, ConditionNode> }>(join(rulesDir, 'conditions.yaml'), NamedConditionsFileSchema)?.conditions ?? {};
}

/** rules/conditions.yaml: resolves every named condition and refuses cycles among them. */
export function compileConditions(problems: Problems, raw: Record<string, ConditionNode>, deps: ConditionDeps): CompiledConditions {
  const resolve = createConditionResolver(problems, new Set(Object.keys(raw)), deps);
  const conditions = new Map<string, ConditionNode>();
  for (const [name, node] of Object.entries(raw)) conditions.set(name, resolve(CONDITIONS_FILE, `conditions.${name}`, node));
  checkConditionCycles(problems, raw);
  return { conditions, names: new Set(Object.keys(raw)), resolve };
}

function createConditionResolver(problems: Problems, names: ReadonlySet<string>, { factLabels, settings, window }: ConditionDeps): ConditionResolver {
  const resolve: ConditionResolver = (file, field, node) => {
    if ('all' in node) return { all: node.all.map((c, i) => resolve(file, `${field}.all[${i}]`, c)) };
    if ('any' in node) return { any: node.any.map((c, i) => resolve(file, `${field}.any[${i}]`, c)) };
    if ('not' in node) return { not: resolve(file, `${field}.not`, node.not) };
    if ('notTrue' in node) return { notTrue: resolve(file, `${field}.notTrue`, node.notTrue) };
    if ('ref' in node) {
      if (!names.has(node.ref)) problems.add(file, `${field}.ref`, `unknown condition '${node.ref}'`);
      return node;
    }
    if (!factLabels.has(node.fact)) problems.add(file, `${field}.fact`, `unknown fact '${node.fact}'`);
    const out: Record<string, unknown> = { ...node };
    for (const op of ['lt', 'lte', 'gt', 'gte'] as const) {
      const bound = node[op];
      if (bound !== undefined && typeof bound === 'object') {
        const value = settings.get(bound.setting);
        if (typeof value !== 'number') problems.add(file, `${field}.${op}`, `setting '${bound.setting}' is missing or not a number`);
        out[op] = value;
      }
    }
    for (const op of ['olderThan', 'within'] as const) {
      const bound = node[op];
      if (bound !== undefined) out[op] = window(file, `${field}.${op}`, bound);
    }
    return out as unknown as ConditionNode;
  };
  return resolve;
}

/** Cycles among named conditions would recurse forever at request time: refuse them at start-up. */
function checkConditionCycles(problems: Problems, raw: Record<string, ConditionNode>): void {
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (node: ConditionNode | undefined, trail: string[]): void => {
    if (!node) return;
    if ('all' in node) node.all.forEach((c) => visit(c, trail));
    else if ('any' in node) node.any.forEach((c) => visit(c, trail));
    else if ('not' in node) visit(node.not, trail);
    else if ('notTrue' in node) visit(node.notTrue, trail);
    else if ('ref' in node) {
      if (visiting.has(node.ref)) {
        problems.add(CONDITIONS_FILE, `conditions.${trail[0]}`, `conditions refer to each other in a cycle (${[...trail, node.ref].join(' → ')})`);
        return;
      }
      if (done.has(node.ref)) return;
      visiting.add(node.ref);
      visit(raw[node.ref], [...trail, node.ref]);
      visiting.delete(node.ref);
      done.add(node.ref);
    }
  };
  for (const name of Object.keys(raw)) {
    visiting.add(name);
    visit(raw[name], [name]);
    visiting.delete(name);
    done.add(name);
  }
}
