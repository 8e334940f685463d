import { compilePath, fhirPathError, type CompiledPath } from '../../fhir/fhirpath';
import type { CodesRef, MappingDefaults } from '../../schemas/fact-mapping';
import type { CodesResolver } from './code-lists';
import { compileRegex, type Problems } from './context';

const DEFAULTS_FILE = 'fhir-mappings/defaults.yaml';

interface CompiledDefaults {
  where?: CompiledPath;
  date: CompiledPath;
  answer?: CompiledPath;
}

/** The shared parts of a fact source: resource type, codes, FHIRPath filters and dates. */
export interface SourceCompiler {
  /** Compiles a FHIRPath expression, or records why it does not compile. */
  path(file: string, field: string, expression: string | undefined): CompiledPath | undefined;
  /** The answer path of a source: its own, else its resource type's default, else `value`. */
  answer(file: string, field: string, resourceType: string, expression: string | undefined): CompiledPath;
  base(
    file: string,
    field: string,
    source: { resourceType: string; codes?: CodesRef; where?: string; date?: string },
    inlineId: string,
  ): { resourceType: string; codes: ReturnType<CodesResolver>; where: CompiledPath | undefined; date: CompiledPath };
  /** Whole-text, case-insensitive patterns (`^(?:…)$`). */
  exactPatterns(file: string, field: string, patterns: string[]): RegExp[];
  codes: CodesResolver;
}

export function createSourceCompiler(problems: Problems, defaults: MappingDefaults | undefined, codes: CodesResolver): SourceCompiler {
  const path = (file: string, field: string, expression: string | undefined): CompiledPath | undefined => {
    if (expression === undefined) return undefined;
    const error = fhirPathError(expression);
    if (error) {
      problems.add(file, field, `FHIRPath does not compile: ${error}`);
      return undefined;
    }
    return compilePath(expression);
  };
  const compiledDefaults = new Map<string, CompiledDefaults>();
  for (const [type, d] of Object.entries(defaults?.resourceTypes ?? {})) {
    const field = `resourceTypes.${type}`;
    const where = path(DEFAULTS_FILE, `${field}.where`, d.where);
    const date = path(DEFAULTS_FILE, `${field}.date`, d.date);
    const answer = path(DEFAULTS_FILE, `${field}.answer`, d.answer);
    compiledDefaults.set(type, { ...(where ? { where } : {}), date: date ?? compilePath('{}'), ...(answer ? { answer } : {}) });
  }
  return {
    path,
    codes,
    answer: (file, field, resourceType, expression) => path(file, field, expression) ?? compiledDefaults.get(resourceType)?.answer ?? compilePath('value'),
    base(file, field, source, inlineId) {
      if (!defaults?.resourceTypes[source.resourceType]) {
        problems.add(file, `${field}.resourceType`, `no defaults for resource type ${source.resourceType} in ${DEFAULTS_FILE}`);
      }
      const d = compiledDefaults.get(source.resourceType);
      return {
        resourceType: source.resourceType,
        codes: source.codes === undefined ? undefined : codes(file, `${field}.codes`, source.codes, inlineId),
        where: source.where !== undefined ? path(file, `${field}.where`, source.where) : d?.where,
        date: (source.date !== undefined ? path(file, `${field}.date`, source.date) : d?.date) ?? compilePath('{}'),
      };
    },
    exactPatterns: (file, field, patterns) => patterns.flatMap((pattern, i) => compileRegex(problems, file, `${field}[${i}]`, `^(?:${pattern})$`, 'i')),
  };
}
