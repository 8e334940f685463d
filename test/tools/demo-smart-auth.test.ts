import { createHash } from 'node:crypto';
import { startDemoFhirServer, type DemoFhirServer } from '../../tools/demo-fhir/demo-fhir-server';
import { encodeDemoLaunch } from '../../tools/demo-fhir/smart-auth';

/**
 * The demo FHIR server's synthetic SMART authorization (what the SMART app's EHR and standalone
 * launches go through in the sandbox and the browser test): discovery, authorize, token with PKCE,
 * appContext handed back, and refusal of tokens it did not issue.
 */
const REDIRECT = 'http://127.0.0.1:9/smart-app/index.html';
const VERIFIER = 'a-long-random-code-verifier-0123456789abcdefghijklmnop';
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

let server: DemoFhirServer;
beforeAll(async () => {
  server = await startDemoFhirServer({ standalonePatient: 'smart-pt' });
  await server.handle('PUT', '/Patient/smart-pt', { resourceType: 'Patient', id: 'smart-pt', birthDate: '1960-01-01' });
});
afterAll(() => server.close());

function authorizeUrl(params: Record<string, string>): string {
  return `${server.url}/auth/authorize?${new URLSearchParams({
    response_type: 'code',
    client_id: 'zoledronic-cds-app',
    redirect_uri: REDIRECT,
    scope: 'launch openid fhirUser patient/*.read',
    state: 'state-1',
    aud: server.url,
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    ...params,
  })}`;
}

async function authorize(params: Record<string, string>): Promise<URL> {
  const response = await fetch(authorizeUrl(params), { redirect: 'manual' });
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location')!);
}

function token(form: Record<string, string>) {
  return fetch(`${server.url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
}

test('smart-configuration names the authorize and token endpoints on this server, PKCE S256 and both launches', async () => {
  const response = await fetch(`${server.url}/.well-known/smart-configuration`);
  expect(response.status).toBe(200);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({
    authorization_endpoint: `${server.url}/auth/authorize`,
    token_endpoint: `${server.url}/auth/token`,
    code_challenge_methods_supported: ['S256'],
  });
  expect(body.capabilities).toEqual(expect.arrayContaining(['launch-ehr', 'launch-standalone', 'client-public']));
});

test('EHR launch: the code gives a token with the launch patient and the card appContext, once, and only with the right PKCE verifier', async () => {
  const launch = encodeDemoLaunch('smart-pt', '{"rule":"PV-NEXT-DOSE"}');
  const back = await authorize({ launch });
  expect(back.origin + back.pathname).toBe(REDIRECT);
  expect(back.searchParams.get('state')).toBe('state-1');
  const code = back.searchParams.get('code')!;

  const wrong = await token({
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    client_id: 'zoledronic-cds-app',
    code_verifier: 'not-the-verifier',
  });
  expect(wrong.status).toBe(400);
  expect(await wrong.json()).toMatchObject({ error: 'invalid_grant' });

  // A refused exchange used the code up: get a new one.
  const code2 = (await authorize({ launch })).searchParams.get('code')!;
  const good = await token({ grant_type: 'authorization_code', code: code2, redirect_uri: REDIRECT, client_id: 'zoledronic-cds-app', code_verifier: VERIFIER });
  expect(good.status).toBe(200);
  expect(good.headers.get('cache-control')).toBe('no-store');
  const body = (await good.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ token_type: 'Bearer', patient: 'smart-pt', appContext: '{"rule":"PV-NEXT-DOSE"}' });

  const again = await token({
    grant_type: 'authorization_code',
    code: code2,
    redirect_uri: REDIRECT,
    client_id: 'zoledronic-cds-app',
    code_verifier: VERIFIER,
  });
  expect(again.status).toBe(400);

  // The token reads the chart; a demo token the server never issued is refused; no token stays open.
  const read = (authorization?: string) => fetch(`${server.url}/Patient/smart-pt`, { headers: authorization ? { authorization } : {} });
  expect((await read(`Bearer ${String(body.access_token)}`)).status).toBe(200);
  const refused = await read('Bearer demo-smart.never-issued');
  expect(refused.status).toBe(401);
  expect(((await refused.json()) as { issue: { details: { text: string } }[] }).issue[0]!.details.text).toBe('The access token is unknown or expired');
  expect((await read()).status).toBe(200);
});

test('standalone launch: the demo patient is in context', async () => {
  const back = await authorize({ scope: 'launch/patient openid fhirUser patient/*.read' });
  const response = await token({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: VERIFIER });
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ patient: 'smart-pt' });
});

test('bad requests: errors go back to a valid redirect_uri, and never to an invalid one', async () => {
  const wrongAud = await authorize({ aud: 'https://other.example/fhir' });
  expect(wrongAud.searchParams.get('error')).toBe('invalid_request');
  expect(wrongAud.searchParams.get('state')).toBe('state-1');
  expect(wrongAud.searchParams.has('code')).toBe(false);
  const badLaunch = await authorize({ launch: 'not-a-launch' });
  expect(badLaunch.searchParams.get('error')).toBe('invalid_request');
  const noLaunchScope = await authorize({ launch: encodeDemoLaunch('smart-pt'), scope: 'openid patient/*.read' });
  expect(noLaunchScope.searchParams.get('error')).toBe('invalid_scope');

  const badRedirect = await fetch(authorizeUrl({ redirect_uri: 'javascript:alert(1)' }), { redirect: 'manual' });
  expect(badRedirect.status).toBe(400);
  expect(badRedirect.headers.get('location')).toBeNull();
  expect(await badRedirect.text()).toMatch(/redirect_uri must be an absolute http\(s\) URL/);
  const badGrant = await token({ grant_type: 'client_credentials' });
  expect(badGrant.status).toBe(400);
  expect(await badGrant.json()).toEqual({ error: 'unsupported_grant_type' });
});
