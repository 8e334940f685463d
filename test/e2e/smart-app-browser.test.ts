import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { DEFAULT_SMART_APP_DIR, smartAppBuilt } from '../../src/routes/smart-app';
import { startDemoEhrServer, type StaticServer } from '../../tools/demo-ehr/static-server';
import { DEMO_PATIENTS_DIR, readDemoManifest } from '../../tools/demo-fhir/load-demo-patients';
import { CHROMIUM, launchChromium } from './support/chromium';
import { startSandboxEnv, type SandboxEnv } from './support/sandbox-env';

/**
 * The SMART app as an oncologist reaches it: the demo EHR page shows a patient's cards, the card's
 * app link makes an EHR launch (demo FHIR server's authorize and token endpoints, PKCE), and the app
 * opens in a new tab with that patient's timeline and "why this card". Headless Debian Chromium;
 * screenshots at 1280×800 and 400 px wide are kept in test/artifacts/ (gitignored).
 */
const ARTIFACTS = resolve(__dirname, '..', 'artifacts');
const PATIENT = 'zol-08';
const CARD_RULE = 'PV-NEXT-DOSE';

/** What the chart holds, read from the demo patient's own file (values; dates move to today). */
function chartFacts(patientId: string): { tScores: number[]; doses: number } {
  const file = readDemoManifest().patients.find((p) => p.id === patientId)!.file;
  const bundle = JSON.parse(readFileSync(join(DEMO_PATIENTS_DIR, file), 'utf8')) as { entry: { resource: Record<string, any> }[] };
  const resources = bundle.entry.map((e) => e.resource);
  const tScores = resources
    .filter((r) => r.resourceType === 'Observation' && (r.code?.coding ?? []).some((c: { display?: string }) => /T-score/i.test(c.display ?? '')))
    .map((r) => r.valueQuantity.value as number);
  const doses = resources.filter(
    (r) => r.resourceType === 'MedicationAdministration' && /zoledronic/i.test(JSON.stringify(r.medicationCodeableConcept ?? '')),
  ).length;
  return { tScores, doses };
}

let env: SandboxEnv;
let ehr: StaticServer;
let context: BrowserContext;
let profile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does`);
  if (!smartAppBuilt(DEFAULT_SMART_APP_DIR)) throw new Error('the SMART app is not built: npm test runs npm run build:app first');
  mkdirSync(ARTIFACTS, { recursive: true });
  [env, ehr] = await Promise.all([startSandboxEnv({ auth: 'off' }), startDemoEhrServer()]);
  profile = mkdtempSync(join(tmpdir(), 'zol-chromium-'));
  context = await launchChromium(profile, { width: 1280, height: 800 });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await Promise.all([env?.close(), ehr?.close()]);
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function waitForApp(app: Page): Promise<void> {
  await app.waitForSelector('#status[data-state="ready"], #status[data-state="error"]', { state: 'attached', timeout: 60_000 });
}

test('the card link launches the app for that patient: timeline with her T-scores and doses, and "why this card" agrees with the card', async () => {
  const ehrPage = context.pages()[0] ?? (await context.newPage());
  await ehrPage.goto(`${ehr.url}/?${new URLSearchParams({ cds: env.service.url, fhir: env.fhir.url, patient: PATIENT, hook: 'patient-view' })}`);
  await ehrPage.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 30_000 });
  const card = ehrPage.locator(`.card[data-rule="${CARD_RULE}"]`);
  const cardSummary = (await card.locator('.summary').textContent())!;
  const cardIndicator = await card.getAttribute('data-indicator');
  const appLink = card.locator('a.app-link');
  expect(await appLink.getAttribute('target')).toBe('_blank');

  const [app] = await Promise.all([context.waitForEvent('page'), appLink.click()]);
  await waitForApp(app);
  expect(await app.getAttribute('#status', 'data-state')).toBe('ready');
  expect(new URL(app.url()).pathname).toBe('/smart-app/index.html');
  expect(await app.textContent('#patient-banner')).toContain('Beatriz Santos');

  // Timeline: every T-score and every zoledronic acid dose of this patient, and a drawn chart.
  const expected = chartFacts(PATIENT);
  const rowsOf = (series: string) =>
    app.$$eval(`#timeline-table tr[data-series="${series}"] td:nth-child(3)`, (cells) => cells.map((c) => c.textContent ?? ''));
  const tScores = (await rowsOf('lowestTScore')).map((text) => Number.parseFloat(text));
  expect(tScores.sort()).toEqual([...expected.tScores].sort());
  expect(await rowsOf('zoledronicAcid')).toHaveLength(expected.doses);
  expect(expected.doses).toBeGreaterThan(0);
  expect(await app.locator('#timeline-chart svg').count()).toBe(1);
  expect(await app.getAttribute('#timeline-chart', 'aria-label')).toContain(`${expected.doses} dose(s)`);
  // The T-score threshold line is drawn (the setting's −2 value is its label).
  expect(await app.locator('#timeline-chart svg text', { hasText: /^-2$/ }).count()).toBeGreaterThan(0);

  // Why this card: opened on the card's rule (appContext), same decision and summary as the service.
  expect(await app.inputValue('#rule-select')).toBe(CARD_RULE);
  expect(await app.getAttribute('.decision', 'data-decision')).toBe('fires');
  const summary = app.locator(`.card-summary[data-rule="${CARD_RULE}"]`);
  expect(await summary.textContent()).toBe(cardSummary);
  expect(await summary.getAttribute('data-indicator')).toBe(cardIndicator);
  const factRows = await app.$$eval('.facts-table tbody tr', (rows) =>
    rows.map((r) => ({
      fact: r.getAttribute('data-fact'),
      date: r.querySelector('.fact-date')?.textContent,
      sources: r.querySelector('.fact-sources')?.textContent,
    })),
  );
  const lastDose = factRows.find((row) => row.fact === 'zoledronicAcid.lastDose');
  expect(lastDose?.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  expect(factRows.some((row) => /MedicationAdministration\//.test(row.sources ?? ''))).toBe(true);
  expect(await app.locator('.decision-path li[data-truth="true"]').count()).toBeGreaterThan(0);
  const evidence = app.locator('.evidence a').first();
  expect(await evidence.getAttribute('target')).toBe('_blank');

  // Prerequisites checklist: one row per prerequisite the rules name, each with a status.
  const checks = await app.$$eval('#prerequisite-list li', (items) =>
    items.map((i) => ({ fact: i.getAttribute('data-fact'), status: i.getAttribute('data-status') })),
  );
  expect(checks.map((c) => c.fact)).toEqual(
    expect.arrayContaining(['dentalExamRecent', 'creatinine', 'calcium', 'vitaminD25Recent', 'vitaminDSupplement', 'lowestTScore']),
  );
  expect(checks.every((c) => ['done', 'missing', 'out-of-date'].includes(c.status ?? ''))).toBe(true);

  // Keyboard: the rule picker is reachable and changes the explanation.
  await app.focus('#rule-select');
  // The card's rule may be the last in the list: arrow down, or up when there is nothing below.
  await app.keyboard.press('ArrowDown');
  if ((await app.inputValue('#rule-select')) === CARD_RULE) await app.keyboard.press('ArrowUp');
  expect(await app.inputValue('#rule-select')).not.toBe(CARD_RULE);
  await app.selectOption('#rule-select', CARD_RULE);

  await app.screenshot({ path: join(ARTIFACTS, `smart-app-${PATIENT}-1280x800.png`) });
  await app.setViewportSize({ width: 400, height: 800 });
  await app.waitForTimeout(300);
  // Runs in the page; the project compiles without the DOM lib, hence the casts.
  const overflow = await app.evaluate(() => {
    const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
    return root.scrollWidth - root.clientWidth;
  });
  expect(overflow).toBeLessThanOrEqual(0);
  await app.screenshot({ path: join(ARTIFACTS, `smart-app-${PATIENT}-400x800.png`) });
  await app.screenshot({ path: join(ARTIFACTS, `smart-app-${PATIENT}-400px-full.png`), fullPage: true });
  await app.locator('#timeline-section').screenshot({ path: join(ARTIFACTS, `smart-app-${PATIENT}-400px-timeline.png`) });
  await app.close();
}, 120_000);

test('opened without a launch, the app says how to start it', async () => {
  const page = await context.newPage();
  try {
    await page.goto(`${env.service.url}/smart-app/index.html`);
    await waitForApp(page);
    expect(await page.getAttribute('#status', 'data-state')).toBe('error');
    expect(await page.textContent('#status')).toMatch(/opened without a launch context.*Open it from the link on a card in your EHR/);
    await page.goto(`${env.service.url}/smart-app/launch.html`);
    await page.waitForSelector('#status[data-state="error"]');
    expect(await page.textContent('#status')).toMatch(/needs a FHIR server to start/);
  } finally {
    await page.close();
  }
}, 60_000);

test('a standalone launch works, and a FHIR server that refuses the token gets a clear message', async () => {
  const page = await context.newPage();
  try {
    await page.goto(`${env.service.url}/smart-app/launch.html?${new URLSearchParams({ iss: env.fhir.url })}`);
    await waitForApp(page);
    expect(await page.getAttribute('#status', 'data-state')).toBe('ready');
    expect((await page.textContent('#patient-banner'))?.length).toBeGreaterThan(0);
    // The same app state with a token the server never issued: every FHIR read is refused.
    await page.evaluate(() => {
      const sessionStorage = (
        globalThis as unknown as {
          sessionStorage: { length: number; key(i: number): string | null; getItem(k: string): string | null; setItem(k: string, v: string): void };
        }
      ).sessionStorage;
      for (let i = 0; i < sessionStorage.length; i++) {
        const key = sessionStorage.key(i)!;
        const value = sessionStorage.getItem(key)!;
        if (value.includes('access_token')) sessionStorage.setItem(key, value.replace(/demo-smart\.[\w-]+/g, 'demo-smart.revoked'));
      }
    });
    await page.reload();
    await waitForApp(page);
    expect(await page.getAttribute('#status', 'data-state')).toBe('error');
    expect(await page.textContent('#status')).toMatch(/FHIR server refused access \(HTTP 401\)/);
  } finally {
    await page.close();
  }
}, 60_000);
