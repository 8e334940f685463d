import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createCompileContext, type CompileContext } from '../../src/knowledge/compile/context';
import { knowledgeFilesOnDisk } from '../../src/knowledge/knowledge-files-on-disk';

const roots: string[] = [];

/** A knowledge root in a temporary directory holding exactly `files` (path → YAML text). */
export function fixtureContext(files: Record<string, string>): CompileContext {
  const root = mkdtempSync(join(tmpdir(), 'cds-knowledge-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return createCompileContext(knowledgeFilesOnDisk(root));
}

afterAll(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});
