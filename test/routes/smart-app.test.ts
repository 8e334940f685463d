import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { APP_LINK_LABEL } from '../../src/engine/build-cards';
import { knowledgeFilesFromTexts } from '../../src/knowledge/knowledge-files';
import { compileCatalog } from '../../src/knowledge/load-catalog';
import type { Card } from '../../src/schemas/cds-response';
import { buildTestApp, cardFor, postHook, type TestApp } from '../support/app';
import { PROJECT_ROOT, projectCatalog } from '../support/catalog';
import { ELIGIBILITY } from '../support/requests';

/**
 * The SMART app as the service serves it (/smart-app/…): its pages under their own content policy,
 * the public knowledge the app compiles, its OAuth settings, and the smart link on the cards that
 * open it. A fixture stands in for the built app, so these tests do not depend on `npm run build`.
 */
const PUBLIC_BASE_URL = 'https://cds.example.org';
const candidateRequest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples', 'patient-view-request.json'), 'utf8')) as { context: { patientId: string } };

let builtDir: string;
let emptyDir: string;
let withApp: TestApp;

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'zol-smart-app-'));
  builtDir = join(root, 'built');
  emptyDir = join(root, 'empty');
  mkdirSync(join(builtDir, 'assets'), { recursive: true });
  mkdirSync(emptyDir);
  writeFileSync(join(builtDir, 'launch.html'), '<!doctype html><title>launch</title>');
  writeFileSync(join(builtDir, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(builtDir, 'assets', 'index-abc123.js'), 'console.log(1)');
  withApp = await buildTestApp({ smartAppDir: builtDir, env: { PUBLIC_BASE_URL } });
});

afterAll(async () => {
  await withApp?.close();
  rmSync(join(builtDir, '..'), { recursive: true, force: true });
});

describe('static pages', () => {
  test("launch.html and index.html are served as HTML under a policy that allows this origin's scripts, no eval, and EHR framing", async () => {
    for (const [path, title] of [
      ['/smart-app/launch.html', 'launch'],
      ['/smart-app/index.html', 'app'],
      ['/smart-app/', 'app'],
    ] as const) {
      const response = await request(withApp.app.server).get(path);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.text).toContain(`<title>${title}</title>`);
      const csp = response.headers['content-security-policy'] as string;
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-eval');
      expect(csp).toContain('frame-ancestors *');
      expect(response.headers['x-frame-options']).toBeUndefined();
      expect(response.headers['cache-control']).toBe('no-cache');
    }
  });

  test('hashed assets are cached for good; /smart-app redirects to /smart-app/', async () => {
    const asset = await request(withApp.app.server).get('/smart-app/assets/index-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const bare = await request(withApp.app.server).get('/smart-app');
    expect([301, 302]).toContain(bare.status);
    expect(bare.headers.location).toBe('/smart-app/');
  });

  test('a missing file is a 404 and a path outside the app is refused, never a file from elsewhere', async () => {
    for (const path of ['/smart-app/nope.js', '/smart-app/../package.json', '/smart-app/%2e%2e/package.json', '/smart-app/..%2fpackage.json']) {
      const response = await request(withApp.app.server).get(path);
      expect([403, 404]).toContain(response.status);
      expect(response.text).not.toContain('"name": "zoledronic-cds"');
    }
  });

  test('the JSON API keeps its own strict policy', async () => {
    const response = await request(withApp.app.server).get('/cds-services');
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    expect(response.headers['x-frame-options']).toBe('DENY');
  });

  test('without a built app the pages are 404 and cards carry no app link', async () => {
    const t = await buildTestApp({ smartAppDir: emptyDir, env: { PUBLIC_BASE_URL } });
    try {
      expect((await request(t.app.server).get('/smart-app/launch.html')).status).toBe(404);
      const response = await postHook(t.app, ELIGIBILITY, candidateRequest);
      expect(response.status).toBe(200);
      expect((response.body.cards as Card[]).flatMap((card) => card.links ?? []).filter((link) => link.type === 'smart')).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

describe('what the app needs from the service', () => {
  test("knowledge.json holds the knowledge files, and compiling them as the browser does gives the service's rules", async () => {
    const response = await request(withApp.app.server).get('/smart-app/knowledge.json');
    expect(response.status).toBe(200);
    const files = response.body.files as Record<string, string>;
    expect(Object.keys(files)).toEqual(
      expect.arrayContaining(['rules/settings.yaml', 'rules/sets/patient-view.yaml', 'hooks/zoledronic-acid-eligibility.yaml']),
    );
    const inBrowser = compileCatalog(knowledgeFilesFromTexts(files), { prevalidated: true });
    const ruleIds = (catalog: typeof inBrowser) => [...catalog.ruleSets.values()].flatMap((set) => set.rules.map((rule) => rule.id));
    expect(ruleIds(inBrowser)).toEqual(ruleIds(projectCatalog()));
    expect(inBrowser.facts.map((f) => f.id)).toEqual(projectCatalog().facts.map((f) => f.id));
  });

  test('config.json gives the client id (CDS_SMART_CLIENT_ID) and SMART scopes for both launches', async () => {
    const response = await request(withApp.app.server).get('/smart-app/config.json');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      clientId: 'zoledronic-cds-app',
      scopes: { ehrLaunch: 'launch openid fhirUser patient/*.read', standaloneLaunch: 'launch/patient openid fhirUser patient/*.read' },
    });
    const t = await buildTestApp({ smartAppDir: builtDir, env: { CDS_SMART_CLIENT_ID: 'epic-client-42' } });
    try {
      expect((await request(t.app.server).get('/smart-app/config.json')).body.clientId).toBe('epic-client-42');
    } finally {
      await t.close();
    }
  });

  test('a client id with spaces or control characters stops start-up with the variable named', async () => {
    await expect(buildTestApp({ smartAppDir: builtDir, env: { CDS_SMART_CLIENT_ID: 'two words' } })).rejects.toThrow(/CDS_SMART_CLIENT_ID/);
  });
});

describe('the smart link on cards', () => {
  test('an eligibility card links to the app with appContext naming its rule only; a prerequisite card does not', async () => {
    const response = await postHook(withApp.app, ELIGIBILITY, candidateRequest);
    expect(response.status).toBe(200);
    const cards = response.body.cards as Card[];
    const recommend = cardFor(cards, 'PV-RECOMMEND')!;
    const smart = (recommend.links ?? []).filter((link) => link.type === 'smart');
    expect(smart).toEqual([{ label: APP_LINK_LABEL, url: `${PUBLIC_BASE_URL}/smart-app/launch.html`, type: 'smart', appContext: '{"rule":"PV-RECOMMEND"}' }]);
    expect(smart[0]!.appContext).not.toContain(candidateRequest.context.patientId);
    const prerequisite = cardFor(cards, 'PV-CALCIUM-VITD')!;
    expect((prerequisite.links ?? []).some((link) => link.type === 'smart')).toBe(false);
  });
});
