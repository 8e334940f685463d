import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../support/catalog';

/**
 * A newcomer runs README's commands as written: every `npm run X` names a script that exists, and
 * every repository file or folder README points at exists (paths under data/, created at run time,
 * and placeholders excepted).
 */
const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
const scripts = Object.keys((JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);

test('every `npm run …` in README is a package.json script', () => {
  const named = [...new Set([...readme.matchAll(/npm run ([a-z][a-z0-9:-]*)/g)].map((m) => m[1]!.replace(/:+$/, '')))];
  expect(named.length).toBeGreaterThan(5);
  expect(named.filter((name) => !scripts.includes(name))).toEqual([]);
});

const IGNORED_FOLDERS = readFileSync(join(PROJECT_ROOT, '.gitignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim().replace(/^\//, '').replace(/\/$/, ''))
  .filter((line) => line.includes('/') || line === 'data');

test('every repository path README names exists', () => {
  const TOP = ['src', 'test', 'tools', 'bench', 'docs', 'config', 'examples', 'docker', 'hooks', 'rules', 'fhir-mappings', '.ci'];
  const paths = [...readme.matchAll(/`((?:\.\/)?([a-z.][a-z-]*)\/[A-Za-z0-9._/-]+)`/g)]
    .filter((m) => TOP.includes(m[2]!))
    .map((m) => m[1]!.replace(/^\.\//, '').replace(/[.:,]+$/, ''))
    .filter((path) => !/[*…<>{}]|YYYY/.test(path))
    // Folders .gitignore lists (test/artifacts/, written by the browser tests) exist only after a run.
    .filter((path) => !IGNORED_FOLDERS.some((folder) => path === folder || path.startsWith(`${folder}/`)));
  expect(paths.length).toBeGreaterThan(20);
  expect([...new Set(paths)].filter((path) => !existsSync(join(PROJECT_ROOT, path)))).toEqual([]);
});
