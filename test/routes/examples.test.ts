import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTestApp, postHook, ruleIdsOf, type TestApp } from '../support/app';
import { PROJECT_ROOT } from '../support/catalog';
import { ELIGIBILITY, ORDER_SELECT } from '../support/requests';

const example = (name: string) => JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples', name), 'utf8')) as unknown;

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

test('the README curl example returns the PV-RECOMMEND card', async () => {
  const response = await postHook(t.app, ELIGIBILITY, example('patient-view-request.json'));
  expect(response.status).toBe(200);
  expect(ruleIdsOf(response.body.cards)).toEqual(['PV-RECOMMEND', 'PV-CALCIUM-VITD']);
});

test('the order-select example returns the first-dose cards', async () => {
  const response = await postHook(t.app, ORDER_SELECT, example('order-select-request.json'));
  expect(response.status).toBe(200);
  expect(ruleIdsOf(response.body.cards)).toEqual(['OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE']);
});
