import { join } from '../knowledge-files';
import { RESOURCE_BUILDERS } from '../../clinical/resource-builders';
import { placeholderError, placeholdersIn } from '../placeholders';
import { ResourceTemplatesFileSchema, type ResourceTemplatesFile } from '../../schemas/rule';
import type { Catalog, ResourceTemplate } from '../types';
import type { CompileContext, Problems } from './context';

const RESOURCES_FILE = 'rules/resources.yaml';

export function readResourceTemplates(ctx: CompileContext, rulesDir: string): ResourceTemplatesFile['resources'] {
  return ctx.read<ResourceTemplatesFile>(join(rulesDir, 'resources.yaml'), ResourceTemplatesFileSchema)?.resources ?? {};
}

export interface ResourceDeps {
  conditionNames: ReadonlySet<string>;
  factLabels: ReadonlyMap<string, string>;
  settings: ReadonlyMap<string, unknown>;
}

/** rules/resources.yaml: each suggestion resource is a template (placeholders checked) or a named builder (params checked). */
export function compileResources(problems: Problems, specs: ResourceTemplatesFile['resources'], deps: ResourceDeps): Catalog['resources'] {
  const resources: Record<string, ResourceTemplate> = {};
  for (const [id, spec] of Object.entries(specs)) {
    if ('builder' in spec) {
      if (!checkBuilder(problems, id, spec, deps)) continue;
      resources[id] = { builder: spec.builder, ...(spec.params ? { params: spec.params } : {}) };
    } else {
      for (const placeholder of placeholdersIn(JSON.stringify(spec.template))) {
        const error = placeholderError(placeholder, new Set(deps.factLabels.keys()), deps.settings);
        if (error) problems.add(RESOURCES_FILE, `resources.${id}.template`, error);
      }
      resources[id] = { template: spec.template };
    }
  }
  return resources;
}

/** False when the builder is unknown. */
function checkBuilder(problems: Problems, id: string, spec: { builder: string; params?: Record<string, unknown> }, deps: ResourceDeps): boolean {
  const builder = RESOURCE_BUILDERS[spec.builder];
  if (!builder) {
    problems.add(RESOURCES_FILE, `resources.${id}.builder`, `unknown builder '${spec.builder}'`);
    return false;
  }
  for (const [name, kind] of Object.entries(builder.params)) {
    const value = spec.params?.[name];
    const field = `resources.${id}.params.${name}`;
    if (typeof value !== 'string') problems.add(RESOURCES_FILE, field, `is required (${kind} name)`);
    else if (kind === 'condition' && !deps.conditionNames.has(value)) problems.add(RESOURCES_FILE, field, `unknown condition '${value}'`);
    else if (kind === 'fact' && !deps.factLabels.has(value)) problems.add(RESOURCES_FILE, field, `unknown fact '${value}'`);
    else if (kind === 'setting' && !deps.settings.has(value)) problems.add(RESOURCES_FILE, field, `unknown setting '${value}'`);
  }
  return true;
}
