import { join } from '../knowledge-files';
import { CodeList, CodeSystems } from '../../fhir/codes';
import { UnitConverter } from '../../fhir/units';
import { CodeListSchema, CodeSystemsSchema, UnitAliasesSchema, type CodeListFile, type CodeSystemsFile, type UnitAliasesFile } from '../../schemas/code-list';
import type { CodesRef } from '../../schemas/fact-mapping';
import { fileStem, type CompileContext, type Problems } from './context';

export interface CompiledCodeLists {
  codeSystems: CodeSystems;
  units: UnitConverter;
  codeLists: Map<string, CodeList>;
  /** The files as written, for unions of several lists. */
  codeListFiles: Map<string, CodeListFile>;
}

/** fhir-mappings/code-systems.yaml, units.yaml and code-lists/*.yaml. */
export function compileCodeLists(ctx: CompileContext, mappingsDir: string): CompiledCodeLists {
  const systemsFile = ctx.read<CodeSystemsFile>(join(mappingsDir, 'code-systems.yaml'), CodeSystemsSchema);
  const codeSystems = new CodeSystems(systemsFile ?? { systems: [] });
  const unitsFile = ctx.read<UnitAliasesFile>(join(mappingsDir, 'units.yaml'), UnitAliasesSchema);
  for (const [alias, target] of Object.entries(unitsFile?.aliases ?? {})) {
    if (!UnitConverter.isValidUcum(target)) ctx.problems.add('fhir-mappings/units.yaml', `aliases.${alias}`, `'${target}' is not a valid UCUM unit`);
  }
  const units = new UnitConverter(unitsFile?.aliases ?? {});
  return { codeSystems, units, ...readCodeListFiles(ctx, join(mappingsDir, 'code-lists'), codeSystems) };
}

function readCodeListFiles(ctx: CompileContext, dir: string, codeSystems: CodeSystems): Pick<CompiledCodeLists, 'codeLists' | 'codeListFiles'> {
  const codeLists = new Map<string, CodeList>();
  const codeListFiles = new Map<string, CodeListFile>();
  for (const path of ctx.listYaml(dir)) {
    const file = ctx.read<CodeListFile>(path, CodeListSchema);
    if (!file) continue;
    const expected = fileStem(path);
    if (file.id !== expected) ctx.problems.add(ctx.rel(path), 'id', `must equal the file name ('${expected}')`);
    if (codeLists.has(file.id)) ctx.problems.add(ctx.rel(path), 'id', `duplicate code list id '${file.id}'`);
    codeLists.set(file.id, new CodeList(file, codeSystems));
    codeListFiles.set(file.id, file);
  }
  return { codeLists, codeListFiles };
}

/** Resolves a `codes:` reference (a list id, several ids, or inline codes) to one code list. */
export type CodesResolver = (file: string, field: string, ref: CodesRef, inlineId: string) => CodeList | undefined;

export function createCodesResolver(problems: Problems, { codeLists, codeListFiles, codeSystems }: CompiledCodeLists): CodesResolver {
  return (file, field, ref, inlineId) => {
    if (typeof ref === 'string') {
      const list = codeLists.get(ref);
      if (!list) problems.add(file, field, `unknown code list '${ref}'`);
      return list;
    }
    if (ref.every((item): item is string => typeof item === 'string')) {
      const parts = ref.map((id) => {
        const part = codeListFiles.get(id);
        if (!part) problems.add(file, field, `unknown code list '${id}'`);
        return part;
      });
      if (parts.some((p) => !p)) return undefined;
      return new CodeList(unionOf(ref, parts as CodeListFile[]), codeSystems);
    }
    return new CodeList({ id: inlineId, title: inlineId, source: ['inline'], status: 'verified', codes: ref as CodeListFile['codes'] }, codeSystems);
  };
}

/** Union of several lists: one list with all their codes, prefixes, names and exclusions. */
function unionOf(ids: string[], lists: CodeListFile[]): CodeListFile {
  return {
    id: ids.join('+'),
    title: lists.map((l) => l.title).join(' + '),
    source: lists.flatMap((l) => l.source),
    status: lists.some((l) => l.status === 'unverified') ? 'unverified' : lists.some((l) => l.status === 'partial') ? 'partial' : 'verified',
    codes: lists.flatMap((l) => l.codes),
    codePrefixes: lists.flatMap((l) => l.codePrefixes ?? []),
    exclude: lists.flatMap((l) => l.exclude ?? []),
    names: lists.flatMap((l) => l.names ?? []),
    excludeNames: lists.flatMap((l) => l.excludeNames ?? []),
  };
}
