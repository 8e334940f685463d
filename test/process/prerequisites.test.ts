import { prerequisiteMode } from '../support/prerequisites';

/** A missing PostgreSQL, Chromium or HAProxy skips its tests on a laptop and fails them in CI. */
test.each([
  [undefined, {}, 'run'],
  [undefined, { CI: 'true' }, 'run'],
  ['CDS_TEST_POSTGRES_URL is not set', {}, 'skip'],
  ['CDS_TEST_POSTGRES_URL is not set', { CI: 'false' }, 'skip'],
  ['/usr/bin/chromium is missing', { CI: 'true' }, 'fail'],
] as const)('missing %p with %p → %s', (missing, env, mode) => {
  expect(prerequisiteMode(missing, env)).toBe(mode);
});
