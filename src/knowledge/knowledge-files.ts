/**
 * Where the knowledge files come from, without node:fs: the service reads them from disk
 * (knowledge-files-on-disk.ts), the SMART app receives the same texts as JSON from the service and
 * compiles them with the same loader in the browser. Paths are POSIX and relative to the knowledge
 * root ("rules/settings.yaml"), so they read the same in problems, logs and the browser.
 */
export interface KnowledgeFiles {
  /** The file names (not paths) of the regular files directly in `dir`, any order; [] if absent. */
  list(dir: string): string[];
  /** The file's text, or undefined when it cannot be read. */
  read(path: string): string | undefined;
}

/** POSIX join of relative path segments; empty segments are skipped ("" is the knowledge root). */
export function join(...segments: string[]): string {
  return segments
    .filter((segment) => segment !== '')
    .join('/')
    .replace(/\/{2,}/g, '/');
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Knowledge held in memory: relative path → text (what GET /smart-app/knowledge.json serves). */
export function knowledgeFilesFromTexts(texts: Readonly<Record<string, string>>): KnowledgeFiles {
  const paths = Object.keys(texts);
  return {
    list: (dir) => {
      const prefix = dir === '' ? '' : `${dir}/`;
      return paths.filter((path) => path.startsWith(prefix) && !path.slice(prefix.length).includes('/')).map((path) => path.slice(prefix.length));
    },
    read: (path) => (Object.prototype.hasOwnProperty.call(texts, path) ? texts[path] : undefined),
  };
}
