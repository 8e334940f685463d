import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openStore } from '../../src/store/open-store';
import type { Store } from '../../src/store/store';
import { PROJECT_ROOT } from '../support/catalog';
import { accepted, card, DAY, hookCall, overridden } from '../support/store-data';

const run = promisify(execFile);
const TSX = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');

let dir: string;
let url: string;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cds-cli-'));
  url = `sqlite:${join(dir, 'cds.db')}`;
  store = openStore(url);
  await store.migrate();
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (script: string, args: string[]) =>
  run(TSX, [join(PROJECT_ROOT, 'src', 'cli', script), ...args], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH, CDS_DB_URL: url } });

test('npm run report: a table per rule and period, read from the configured store while the service holds it open', async () => {
  const cards = [card('PV-RECOMMEND'), card('PV-RECOMMEND'), card('PV-DXA-FIRST')];
  await store.recordHookCalls([hookCall(cards)]);
  await store.recordFeedback([accepted(cards[0]!), overridden(cards[1]!.cardUuid, { code: 'declined', display: 'Patient declined' }), overridden(cards[2]!.cardUuid, undefined)]);
  await store.recordFeedback([overridden('0000dead-0000-4000-8000-000000000000', undefined)]);

  const { stdout } = await cli('report.ts', ['--from', '2026-11-23', '--to', '2026-11-30', '--period', 'week']);
  const lines = stdout.split('\n');
  expect(lines[0]).toBe('Feedback summary 2026-11-23T00:00:00.000Z → 2026-11-30T00:00:00.000Z, by week');
  expect(lines[2]!.split(/\s{2,}/)).toEqual(['service', 'rule', 'period', 'shown', 'accepted', 'overridden', 'accept%', 'override%', 'top override reasons']);
  const rows = lines.filter((l) => l.startsWith('zoledronic-acid-eligibility')).map((l) => l.trim().split(/\s{2,}/));
  expect(rows).toEqual([
    ['zoledronic-acid-eligibility', 'PV-DXA-FIRST', '2026-11-23', '1', '0', '1', '0%', '100%', '(no reason given) ×1'],
    ['zoledronic-acid-eligibility', 'PV-RECOMMEND', '2026-11-23', '2', '1', '1', '50%', '50%', 'Patient declined ×1'],
  ]);
  // Feedback about a card never issued to the client is counted at the endpoint, not stored (issue 14).
  expect(stdout).toContain('Feedback for card uuids this service never issued (flagged): 0');

  const json = JSON.parse((await cli('report.ts', ['--from', '2026-11-23', '--to', '2026-11-30', '--period', 'month', '--json'])).stdout);
  // ISO dates, as GET …/feedback/summary answers.
  expect(json).toMatchObject({ from: '2026-11-23T00:00:00.000Z', to: '2026-11-30T00:00:00.000Z', period: 'month' });
  expect(json.rows.map((r: { ruleId: string; period: string; shown: number }) => [r.ruleId, r.period, r.shown])).toEqual([
    ['PV-DXA-FIRST', '2026-11', 1],
    ['PV-RECOMMEND', '2026-11', 2],
  ]);
});

test('npm run report groups by day by default, like the HTTP summary', async () => {
  const json = JSON.parse((await cli('report.ts', ['--from', '2026-11-23', '--to', '2026-11-30', '--json'])).stdout);
  expect(json.period).toBe('day');
  expect(json.rows.map((r: { period: string }) => r.period).every((p: string) => /^\d{4}-\d{2}-\d{2}$/.test(p))).toBe(true);
});

test('npm run report refuses a bad period with the usage', async () => {
  await expect(cli('report.ts', ['--period', 'year'])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('--period must be day, week or month') });
});

test('npm run purge -- --days N deletes older audit rows and feedback, keeps newer ones', async () => {
  const now = Date.now();
  const old = card('PV-RECOMMEND');
  const recent = card('PV-RECOMMEND');
  await store.recordHookCalls([hookCall([old], { calledAt: now - 40 * DAY }), hookCall([recent], { calledAt: now - DAY })]);
  await store.recordFeedback([accepted(old, now - 40 * DAY), accepted(recent, now - DAY)]);
  const { stdout } = await cli('purge.ts', ['--days', '30']);
  expect(stdout).toMatch(/hook calls 1, issued cards 1, feedback 1; expired jti entries 0/);
  const left = await store.feedbackSummary({ from: now - 60 * DAY, to: now, period: 'month' });
  expect(left.rows.reduce((n, r) => n + r.shown, 0)).toBe(1);
});
