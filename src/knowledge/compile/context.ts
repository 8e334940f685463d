import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { parseDocument } from 'yaml';
import { createAjv, summarizeErrors } from '../ajv';

/** Every problem found so far, each naming the file and the field; the compilers add, the loader throws. */
export class Problems {
  readonly list: string[] = [];
  add(file: string, field: string, message: string): void {
    this.list.push(`${file}: ${field}: ${message}`);
  }
}

/** What every file-kind compiler needs: where the files are, how to read and check one, where problems go. */
export interface CompileContext {
  readonly root: string;
  readonly problems: Problems;
  /** Every knowledge file read, relative to the root. */
  readonly files: string[];
  /** The path relative to the root, as problems name it. */
  rel(path: string): string;
  /** Reads a YAML file and checks it against its schema; undefined (with problems) when it cannot. */
  read<T>(path: string, schema: TSchema): T | undefined;
  /** Checks data against a schema; `prefix` places the fields of an item inside its file. */
  check<T>(file: string, data: unknown, schema: TSchema, prefix?: string): T | undefined;
}

export function createCompileContext(root: string): CompileContext {
  const problems = new Problems();
  const ajv = createAjv();
  const validators = new Map<TSchema, ValidateFunction>();
  const files: string[] = [];
  const rel = (path: string) => relative(root, path) || path;

  function check<T>(file: string, data: unknown, schema: TSchema, prefix = ''): T | undefined {
    let validate = validators.get(schema);
    if (!validate) {
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
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      problems.add(rel(path), '(file)', 'cannot be read');
      return undefined;
    }
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      for (const error of doc.errors) problems.add(rel(path), `line ${error.linePos?.[0]?.line ?? '?'}`, error.message.split('\n')[0]!);
      return undefined;
    }
    return check<T>(rel(path), doc.toJS() as unknown, schema);
  }

  return { root, problems, files, rel, read, check };
}

/** The YAML files of a directory, sorted; none when it does not exist. */
export function listYaml(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
    .sort()
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
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
