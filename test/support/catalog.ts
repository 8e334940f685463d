import { resolve } from 'node:path';
import { loadCatalog } from '../../src/knowledge/knowledge-files-on-disk';
import type { Catalog } from '../../src/knowledge/types';

export const PROJECT_ROOT = resolve(__dirname, '..', '..');

let cached: Catalog | undefined;
/** The real knowledge base, loaded once per test worker. */
export function projectCatalog(): Catalog {
  cached ??= loadCatalog({ root: PROJECT_ROOT });
  return cached;
}
