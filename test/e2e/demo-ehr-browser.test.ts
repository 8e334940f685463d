import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { startDemoEhrServer, type StaticServer } from '../../tools/demo-ehr/static-server';
import { readDemoManifest } from '../../tools/demo-fhir/load-demo-patients';
import { describeIfAvailable } from '../support/prerequisites';
import { CHROMIUM, launchChromium } from './support/chromium';
import { startSandboxEnv, type SandboxEnv } from './support/sandbox-env';

/**
 * The cards as a clinician sees them: our demo EHR page, served from its own origin, runs in headless
 * Chromium and calls the service and the FHIR server from the browser (CORS preflights included).
 * Screenshots are kept in test/artifacts/ (gitignored).
 */
const ARTIFACTS = resolve(__dirname, '..', 'artifacts');
const INFO_BLUE = 'rgb(31, 111, 235)';
const CRITICAL_RED = 'rgb(198, 40, 40)';
const manifest = readDemoManifest();

// Skipped with this reason where Debian's Chromium is not installed; a failure when CI=true.
const missingChromium = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`;

describeIfAvailable('the demo EHR page in headless Chromium', missingChromium, () => {
  let env: SandboxEnv;
  let ehr: StaticServer;
  let context: BrowserContext;
  let page: Page;
  let profile: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [env, ehr] = await Promise.all([startSandboxEnv({ auth: 'off' }), startDemoEhrServer()]);
    profile = mkdtempSync(join(tmpdir(), 'zol-chromium-'));
    context = await launchChromium(profile, { width: 1280, height: 1000 });
    page = context.pages()[0] ?? (await context.newPage());
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await Promise.all([env?.close(), ehr?.close()]);
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  async function openPatient(patientId: string, hook: string): Promise<void> {
    const url = `${ehr.url}/?${new URLSearchParams({ cds: env.service.url, fhir: env.fhir.url, patient: patientId, hook })}`;
    await page.goto(url);
    await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 30_000 });
  }

  const renderedCards = () =>
    page.$$eval('.card', (cards) =>
      cards.map((card) => ({
        rule: card.getAttribute('data-rule'),
        indicator: card.getAttribute('data-indicator'),
        // Runs in the page; the project compiles without the DOM lib, hence the cast.
        border: (globalThis as unknown as { getComputedStyle(e: unknown): { borderLeftColor: string } }).getComputedStyle(card).borderLeftColor,
        summary: card.querySelector('.summary')?.textContent ?? '',
        detailHtml: card.querySelector('.detail')?.innerHTML ?? '',
        sourceHref: card.querySelector('.source a')?.getAttribute('href') ?? null,
        suggestions: [...card.querySelectorAll('.suggestion')].map((b) => b.textContent),
      })),
    );

  test('patient-view for a candidate: the page shows the service cards with colours, markdown detail, source and suggestions', async () => {
    expect(new URL(ehr.url).origin).not.toBe(new URL(env.service.url).origin);
    await openPatient('zol-01', 'patient-view');
    expect(await page.textContent('#status')).toBe('patient-view: 2 card(s)');
    expect(await page.textContent('#banner')).toContain('Margaret Ann Okafor');
    expect(await page.$$eval('#patient-list a', (links) => links.length)).toBe(manifest.patients.length);

    const cards = await renderedCards();
    expect(cards.map((c) => c.rule)).toEqual(manifest.patients.find((p) => p.id === 'zol-01')!.expected['patient-view']);
    const recommend = cards[0]!;
    expect(recommend.indicator).toBe('info');
    expect(recommend.border).toBe(INFO_BLUE);
    expect(recommend.summary).toMatch(/^Adjuvant zoledronic acid 4 mg IV every 6 months is recommended/);
    expect(recommend.detailHtml).toContain('<strong>4 mg IV over ≥ 15 minutes every 6 months</strong>');
    expect(recommend.detailHtml).toContain('<strong>Missing or to do:</strong>');
    expect(recommend.sourceHref).toBe('https://doi.org/10.1016/S0140-6736(15)60908-4');
    expect(recommend.suggestions).toEqual(['Order zoledronic acid 4 mg IV every 6 months']);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-ehr-zol-01-patient-view.png'), fullPage: true });

    // The browser's cross-origin POSTs with Authorization were preflighted, and the service answered.
    expect(env.service.output.some((line) => line.includes('"method":"OPTIONS"') && line.includes('"status":204'))).toBe(true);
  }, 60_000);

  test('accepting a suggestion posts feedback from the browser with a bearer JWT for …/feedback', async () => {
    await openPatient('zol-01', 'patient-view');
    const feedbackRequest = page.waitForRequest((request) => request.url().endsWith('/feedback') && request.method() === 'POST');
    await page.click('.card[data-rule="PV-RECOMMEND"] .suggestion');
    const request = await feedbackRequest;
    const authorization = request.headers().authorization ?? '';
    expect(authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(authorization.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims.aud).toBe(`${env.service.url}/cds-services/zoledronic-acid-eligibility/feedback`);
    const body = request.postDataJSON() as { feedback: { card: string; outcome: string; acceptedSuggestions: { id: string }[] }[] };
    expect(body.feedback).toHaveLength(1);
    expect(body.feedback[0]).toMatchObject({ outcome: 'accepted' });
    expect(body.feedback[0]!.acceptedSuggestions).toHaveLength(1);
    await page.waitForSelector('.card[data-rule="PV-RECOMMEND"] .feedback[data-status]');
    expect(await page.getAttribute('.card[data-rule="PV-RECOMMEND"] .feedback', 'data-status')).toMatch(/^(200|404)$/);
  }, 60_000);

  test('ordering zoledronic acid for the patient with severe renal impairment shows a red critical card', async () => {
    await openPatient('zol-09', 'patient-view');
    expect(await page.textContent('#status')).toBe('patient-view: 1 card(s)');
    expect((await renderedCards()).map((c) => c.rule)).toEqual(['PV-CONTRAINDICATED']);
    await page.click('#order-zoledronic');
    await page.waitForSelector('#status[data-state="done"]:has-text("order-select")');
    const cards = await renderedCards();
    expect(cards.map((c) => c.rule)).toEqual(manifest.patients.find((p) => p.id === 'zol-09')!.expected['order-select']);
    expect(cards[0]).toMatchObject({ indicator: 'critical', border: CRITICAL_RED, suggestions: ['Remove the zoledronic acid order'] });
    expect(cards[0]!.summary).toMatch(/not recommended: creatinine clearance 2\d(\.\d)? mL\/min/i);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-ehr-zol-09-order-select.png'), fullPage: true });
  }, 60_000);
});
