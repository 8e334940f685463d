/**
 * Tests that need something outside node_modules (PostgreSQL, Chromium, HAProxy). On a developer's
 * machine a missing prerequisite skips them with the reason in the title; in CI (CI=true) it fails,
 * so a broken CI image can never pass by skipping.
 */
export type PrerequisiteMode = 'run' | 'skip' | 'fail';

export function prerequisiteMode(missing: string | undefined, env: Record<string, string | undefined> = process.env): PrerequisiteMode {
  if (missing === undefined) return 'run';
  return env.CI === 'true' ? 'fail' : 'skip';
}

export function describeIfAvailable(title: string, missing: string | undefined, fn: () => void): void {
  switch (prerequisiteMode(missing)) {
    case 'run':
      describe(title, fn);
      return;
    case 'fail':
      describe(title, () => {
        test('prerequisite available (CI=true: a missing prerequisite fails instead of skipping)', () => {
          throw new Error(`CI=true and ${missing}`);
        });
      });
      return;
    case 'skip':
      describe.skip(`${title} (skipped: ${missing})`, fn);
  }
}
