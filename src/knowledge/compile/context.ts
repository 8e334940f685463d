import type { ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { parseDocument } from 'yaml';
import { createAjv, summarizeErrors } from '../ajv';
import { basename, join, type KnowledgeFiles } from '../knowledge-files';

/** Every problem found so far, each naming the file and the field; the compilers add, the loader throws. */
export class Problems {
  readonly list: string[] = [];
  add(file: string, field: string, message: string): void {
    this.list.push(`${file}: ${field}: ${message}`);
  }
}

export interface CompileOptions {
  /**
   * The texts were already validated by this loader (the service did at start-up and serves exactly
   * those): skip the schema checks. The browser app uses it, so it compiles no ajv code (no eval,
   * strict CSP); every other check still runs.
   */
  prevalidated?: boolean;
}

/** What every file-kind compiler needs: where the files are, how to read and check one, where problems go. */
export interface CompileContext {
  /** The knowledge root as the compilers join paths to it: "" (paths are relative to the source). */
  readonly root: string;
  readonly problems: Problems;
  /** Every knowledge file read, relative to the root. */
  readonly files: string[];
  /** The texts read, by relative path (the SMART app compiles the same knowledge from them). */
  readonly texts: Record<string, string>;
  /** The path relative to the root, as problems name it. */
  rel(path: string): string;
  /** The YAML files of a directory, sorted; none when it does not exist. */
  listYaml(dir: string): string[];
  /** Reads a YAML file and checks it against its schema; undefined (with problems) when it cannot. */
  read<T>(path: string, schema: TSchema): T | undefined;
  /** Checks data against a schema; `prefix` places the fields of an item inside its file. */
  check<T>(file: string, data: unknown, schema: TSchema, prefix?: string): T | undefined;
}

/** A compile context over a source of knowledge files (disk for the service, memory for the app). */
export function createCompileContext(source: KnowledgeFiles, options: CompileOptions = {}): CompileContext {
  const problems = new Problems();
  let ajv: ReturnType<typeof createAjv> | undefined;
  const validators = new Map<TSchema, ValidateFunction>();
  const files: string[] = [];
  const texts: Record<string, string> = {};
  const rel = (path: string) => path;

  function check<T>(file: string, data: unknown, schema: TSchema, prefix = ''): T | undefined {
    if (options.prevalidated) return data as T;
    let validate = validators.get(schema);
    if (!validate) {
      ajv ??= createAjv();
      validate = ajv.compile(schema);
      validators.set(schema, validate);
    }
    if (validate(data)) return data as T;
    for (const { field, message } of summarizeErrors(validate.errors)) {
      const full = prefix ? (field === '(root)' ? prefix : field.startsWith('[') ? `${prefix}${field}` : `${prefix}.${field}`) : field;
      problems.add(file, full, message);
    }
    return undefined;
  }

  function read<T>(path: string, schema: TSchema): T | undefined {
    files.push(rel(path));
    const text = source.read(path);
    if (text === undefined) {
      problems.add(rel(path), '(file)', 'cannot be read');
      return undefined;
    }
    texts[path] = text;
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      for (const error of doc.errors) problems.add(rel(path), `line ${error.linePos?.[0]?.line ?? '?'}`, error.message.split('\n')[0]!);
      return undefined;
    }
    return check<T>(rel(path), doc.toJS() as unknown, schema);
  }

  const listYaml = (dir: string) =>
    source
      .list(dir)
      .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
      .sort()
      .map((name) => join(dir, name));

  return { root: '', problems, files, texts, rel, listYaml, read, check };
}

/** 'hooks/x.yaml' → 'x': files whose id must equal their name. */
export function fileStem(path: string): string {
  return basename(path).replace(/\.ya?ml$/, '');
}

/** Compiles a regular expression, or records why it cannot be and gives none. */
export function compileRegex(problems: Problems, file: string, field: string, source: string, flags: string): RegExp[] {
  try {
    return [new RegExp(source, flags)];
  } catch (error) {
    problems.add(file, field, `invalid regular expression: ${(error as Error).message}`);
    return [];
  }
}
