import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from './types';
import { compileCatalog } from './load-catalog';
import type { KnowledgeFiles } from './knowledge-files';

/** The knowledge files under `root` (the directory holding hooks/, fhir-mappings/ and rules/). */
export function knowledgeFilesOnDisk(root: string): KnowledgeFiles {
  return {
    list: (dir) => {
      const absolute = join(root, dir);
      try {
        return readdirSync(absolute).filter((name) => statSync(join(absolute, name)).isFile());
      } catch {
        return [];
      }
    },
    read: (path) => {
      try {
        return readFileSync(join(root, path), 'utf8');
      } catch {
        return undefined;
      }
    },
  };
}

export interface LoadOptions {
  /** Directory holding hooks/, fhir-mappings/ and rules/ (the project root by default). */
  root: string;
}

/**
 * Loads, validates and compiles the knowledge base at start-up. Any problem stops the service with a
 * message that names the file and the field; nothing is skipped or defaulted silently.
 */
export function loadCatalog({ root }: LoadOptions): Catalog {
  return compileCatalog(knowledgeFilesOnDisk(root));
}
