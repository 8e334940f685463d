import { compileCodeLists, createCodesResolver } from './compile/code-lists';
import { compileConditions, readNamedConditions } from './compile/conditions';
import { createCompileContext, type CompileOptions } from './compile/context';
import { join, type KnowledgeFiles } from './knowledge-files';
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

export type { CompileOptions };

/**
 * Validates and compiles the knowledge base (pure: the files come from `source`; on disk that is
 * loadCatalog in knowledge-files-on-disk.ts, in the SMART app the texts the service serves). Any
 * problem throws a KnowledgeError that names the file and the field; nothing is skipped or defaulted
 * silently. Each kind of file has its compiler in ./compile/; this function runs them in dependency order.
 */
export function compileCatalog(source: KnowledgeFiles, options: CompileOptions = {}): Catalog {
  const ctx = createCompileContext(source, options);
  const root = ctx.root;
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
    texts: ctx.texts,
  };
}
