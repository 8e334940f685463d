import type { CodeList } from '../../fhir/codes';
import { hookModuleFor, knownHookNames } from '../../cds-hooks/registry';
import { HookDefinitionSchema, type HookDefinition } from '../../schemas/hook-definition';
import type { CompiledRuleSet, CompiledService, PrefetchTemplate } from '../types';
import { fileStem, type CompileContext, type Problems } from './context';

/** Tokens every hook's prefetch may use besides its context tokens (CDS Hooks 2.0 §Prefetch tokens). */
const USER_TOKENS = ['userPractitionerId', 'userPractitionerRoleId', 'userPatientId', 'userRelatedPersonId'];

export interface HookDeps {
  ruleSets: ReadonlyMap<string, CompiledRuleSet>;
  codeLists: ReadonlyMap<string, CodeList>;
}

/** hooks/*.yaml: one service per file, its prefetch templates checked against the hook's tokens. */
export function compileHooks(ctx: CompileContext, hooksDir: string, deps: HookDeps): Map<string, CompiledService> {
  const services = new Map<string, CompiledService>();
  for (const filePath of ctx.listYaml(hooksDir)) {
    const def = ctx.read<HookDefinition>(filePath, HookDefinitionSchema);
    if (!def) continue;
    const file = ctx.rel(filePath);
    const expected = fileStem(filePath);
    if (def.id !== expected) ctx.problems.add(file, 'id', `must equal the file name ('${expected}')`);
    if (services.has(def.id)) ctx.problems.add(file, 'id', `duplicate service id '${def.id}'`);
    for (const [i, hook] of def.hooks.entries()) {
      if (!hookModuleFor(hook)) ctx.problems.add(file, `hooks[${i}]`, `unknown hook '${hook}' (known: ${knownHookNames().join(', ')})`);
    }
    if (def.hooks.length > 1) {
      ctx.problems.add(
        file,
        'hooks',
        'must list one hook: clients key services by id, so one id under several hooks hides all but one (write one file per hook)',
      );
    }
    const ruleSet = deps.ruleSets.get(def.config.ruleSet);
    if (!ruleSet) ctx.problems.add(file, 'config.ruleSet', `unknown rule set '${def.config.ruleSet}'`);
    const prefetch = compilePrefetch(ctx.problems, file, def);
    const triggerMedication = checkTrigger(ctx.problems, file, def, deps.codeLists);
    if (ruleSet) services.set(def.id, { id: def.id, hooks: def.hooks, definition: def, prefetch, ruleSet, triggerMedication });
  }
  if (services.size === 0) ctx.problems.add('hooks/', '(directory)', 'defines no service');
  return services;
}

function compilePrefetch(problems: Problems, file: string, def: HookDefinition): PrefetchTemplate[] {
  const prefetch: PrefetchTemplate[] = [];
  const allowed = new Set([...def.hooks.flatMap((h) => hookModuleFor(h)?.contextTokens ?? []), ...USER_TOKENS]);
  for (const [key, template] of Object.entries(def.prefetch)) {
    for (const token of [...template.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((m) => m[1]!)) {
      if (!allowed.has(token)) problems.add(file, `prefetch.${key}`, `'{{${token}}}' is not a CDS Hooks 2.0 prefetch token for ${def.hooks.join('/')}`);
    }
    const read = /^([A-Z][A-Za-z]+)\/\{\{[^}]+\}\}$/.exec(template);
    const search = /^([A-Z][A-Za-z]+)\?/.exec(template);
    if (!read && !search) problems.add(file, `prefetch.${key}`, 'must be a read (Type/{{token}}) or a search (Type?params)');
    prefetch.push({
      key,
      template,
      required: def.config.requiredPrefetch.includes(key),
      resourceType: (read ?? search)?.[1] ?? 'Unknown',
      interaction: read ? 'read' : 'search',
    });
  }
  for (const key of def.config.requiredPrefetch) if (!(key in def.prefetch)) problems.add(file, 'config.requiredPrefetch', `'${key}' is not a prefetch key`);
  return prefetch;
}

/** Order hooks need the code list that says which draft orders they are about. */
function checkTrigger(problems: Problems, file: string, def: HookDefinition, codeLists: ReadonlyMap<string, CodeList>): CodeList | undefined {
  let triggerMedication: CodeList | undefined;
  if (def.config.triggerMedication) {
    triggerMedication = codeLists.get(def.config.triggerMedication);
    if (!triggerMedication) problems.add(file, 'config.triggerMedication', `unknown code list '${def.config.triggerMedication}'`);
  }
  const ordering = def.hooks.some((h) => hookModuleFor(h)?.draftOrders === true);
  if (ordering && !triggerMedication) {
    const orderHooks = knownHookNames().filter((name) => hookModuleFor(name)?.draftOrders === true);
    problems.add(file, 'config.triggerMedication', `is required for ${orderHooks.join(' / ')} services`);
  }
  return triggerMedication;
}
