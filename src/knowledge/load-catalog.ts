import { join } from 'node:path';
import { compileCodeLists, createCodesResolver } from './compile/code-lists';
import { compileConditions, readNamedConditions } from './compile/conditions';
import { createCompileContext } from './compile/context';
import { compileDerivedFacts } from './compile/derived-facts';
import { checkSeedCoverage, readEvidence, readOverrideReasons, readSeedStatements } from './compile/evidence';
import { createSourceCompiler } from './compile/fact-sources';
import { compileExtractedFacts, factLabelsOf, readFactDefinitions, readMappingDefaults } from './compile/facts';
import { compileHooks } from './compile/hooks';
import { compileResources, readResourceTemplates } from './compile/resources';
import { compileRuleSets } from './compile/rule-sets';
import { compileSettings, createWindowResolver } from './compile/settings';
import type { Catalog } from './types';

/** Every problem found in the knowledge files, each naming the file and the field. */
export class KnowledgeError extends Error {
  constructor(readonly problems: string[]) {
    super(`[catalog] ${problems.length} problem(s) in the knowledge files:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'KnowledgeError';
  }
}

export interface LoadOptions {
  /** Directory holding hooks/, fhir-mappings/ and rules/ (the project root by default). */
  root: string;
}

/**
 * Loads, validates and compiles the knowledge base at start-up. Any problem stops the service with a
 * message that names the file and the field; nothing is skipped or defaulted silently. Each kind of
 * file has its compiler in ./compile/; this function only runs them in dependency order.
 */
export function loadCatalog({ root }: LoadOptions): Catalog {
  const ctx = createCompileContext(root);
  const { problems } = ctx;
  const mappingsDir = join(root, 'fhir-mappings');
  const rulesDir = join(root, 'rules');

  const codes = compileCodeLists(ctx, mappingsDir);
  const defaults = readMappingDefaults(ctx, mappingsDir);
  const settings = compileSettings(ctx, rulesDir);
  const window = createWindowResolver(problems, settings);

  const factEntries = readFactDefinitions(ctx, join(mappingsDir, 'facts'));
  const factLabels = factLabelsOf(problems, factEntries);
  const sources = createSourceCompiler(problems, defaults, createCodesResolver(problems, codes));
  const extracted = compileExtractedFacts({ problems, sources, window }, factEntries);
  const derived = compileDerivedFacts(problems, factEntries, extracted, factLabels, settings);

  const rawConditions = readNamedConditions(ctx, rulesDir);
  const evidence = readEvidence(ctx, rulesDir);
  const overrideReasons = readOverrideReasons(ctx, rulesDir);
  const resourceSpecs = readResourceTemplates(ctx, rulesDir);
  const seed = readSeedStatements(ctx, rulesDir);
  const conditions = compileConditions(problems, rawConditions, { factLabels, settings, window });
  const resources = compileResources(problems, resourceSpecs, { conditionNames: conditions.names, factLabels, settings });

  const { ruleSets, implemented } = compileRuleSets(ctx, join(rulesDir, 'sets'), {
    factLabels,
    settings,
    conditions: conditions.conditions,
    resolveCondition: conditions.resolve,
    evidence,
    overrideReasons,
    seed,
    resources,
  });
  checkSeedCoverage(problems, seed, implemented);
  const services = compileHooks(ctx, join(root, 'hooks'), { ruleSets, codeLists: codes.codeLists });

  if (problems.list.length > 0) throw new KnowledgeError(problems.list);
  return {
    services,
    codeSystems: codes.codeSystems,
    codeLists: codes.codeLists,
    facts: [...extracted, ...derived],
    factLabels,
    conditions: conditions.conditions,
    ruleSets,
    evidence,
    overrideReasons,
    resources,
    settings,
    seed,
    units: codes.units,
    files: ctx.files,
  };
}
