import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHarnessIssuer, type HarnessIssuer } from '../../tools/cds-client/issuer';
import { decodeJwt } from '../../tools/cds-client/jwt';
import { resolvePrefetch, resolveTemplate } from '../../tools/cds-client/prefetch';

/**
 * The harness must look to a service exactly like the CDS Hooks sandbox: its JWTs verifiable with the
 * JWKS it serves, and its prefetch limited to what the sandbox resolves.
 */
let issuer: HarnessIssuer;
beforeAll(async () => {
  issuer = await startHarnessIssuer();
});
afterAll(() => issuer.close());

describe('JWT', () => {
  test('ES384, verifiable with the key from the JWKS served at jku, with the CDS Hooks 2.0 claims', async () => {
    const aud = 'http://127.0.0.1:8080/cds-services/zoledronic-acid-eligibility';
    const token = issuer.tokenFor(aud);
    const { header, payload, signingInput, signature } = decodeJwt(token);
    expect(header).toEqual({ alg: 'ES384', typ: 'JWT', kid: issuer.key.kid, jku: issuer.jwksUri });
    expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti']);
    expect(payload).toMatchObject({ iss: issuer.iss, aud });
    expect((payload.exp as number) - (payload.iat as number)).toBe(300);
    expect(Math.abs((payload.iat as number) - Date.now() / 1000)).toBeLessThan(60);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);

    const jwks = (await (await fetch(header.jku as string)).json()) as { keys: (JsonWebKey & { kid: string })[] };
    const jwk = jwks.keys.find((k) => k.kid === header.kid)!;
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-384', alg: 'ES384', use: 'sig' });
    expect(jwk).not.toHaveProperty('d');
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    expect(verify('sha384', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    const tampered = `${signingInput.split('.')[0]}.${Buffer.from(JSON.stringify({ ...payload, aud: 'http://evil.example/' })).toString('base64url')}`;
    expect(verify('sha384', Buffer.from(tampered), { key, dsaEncoding: 'ieee-p1363' }, signature)).toBe(false);
  });

  test('a fresh jti per token, and aud is whatever URL is being called (discovery, service, feedback)', () => {
    const urls = ['http://x/cds-services', 'http://x/cds-services/a', 'http://x/cds-services/a/feedback'];
    const tokens = urls.map((aud) => decodeJwt(issuer.tokenFor(aud)).payload);
    expect(tokens.map((t) => t.aud)).toEqual(urls);
    expect(new Set(tokens.map((t) => t.jti)).size).toBe(3);
  });

  test('the CDS_TRUSTED_ISSUERS entries have the runtime contract shape', () => {
    expect(issuer.trustedIssuer()).toEqual({ iss: issuer.iss, jwks_uri: issuer.jwksUri });
    expect(issuer.trustedIssuer('inline')).toEqual({ iss: issuer.iss, jwks_uri: issuer.jwksUri, jwks: { keys: [issuer.key.publicJwk] } });
  });
});

describe('prefetch tokens the way the sandbox resolves them', () => {
  const context = { patientId: 'pt 1', userId: 'Practitioner/doc-1', draftOrders: { resourceType: 'Bundle' } };
  test.each([
    ['Patient/{{context.patientId}}', 'Patient/pt%201'],
    ['Observation?patient={{context.patientId}}&code=2160-0', 'Observation?patient=pt%201&code=2160-0'],
    ['Practitioner/{{userPractitionerId}}', 'Practitioner/doc-1'],
    ['Observation?patient={{context.patientId}}&date=ge{{today() - 30 days}}', 'Observation?patient=pt%201&date=ge2026-10-28'],
    ['Encounter/{{context.encounterId}}', undefined],
    ['PractitionerRole/{{userPractitionerRoleId}}', undefined],
    ['MedicationRequest/{{context.draftOrders.entry.resource.id}}', undefined],
  ])('%s → %s', (template, expected) => {
    expect(resolveTemplate(template, context, new Date('2026-11-27T12:00:00Z'))).toBe(expected);
  });
});

describe('prefetch requests', () => {
  let server: Server;
  let url: string;
  const seen: { method: string; path: string; type: string | undefined; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, path: req.url!, type: req.headers['content-type'], body });
        const json = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/fhir+json' });
          res.end(JSON.stringify(value));
        };
        if (req.url === '/Patient/p1') return json(200, { resourceType: 'Patient', id: 'p1' });
        if (req.url === '/Condition/_search') return json(200, { resourceType: 'Bundle', type: 'searchset', total: 0 });
        if (req.url === '/Procedure/_search') return json(405, { resourceType: 'OperationOutcome', issue: [] });
        if (req.url?.startsWith('/Procedure?')) return json(200, { resourceType: 'Bundle', type: 'searchset', total: 0 });
        return json(404, { resourceType: 'OperationOutcome', issue: [] });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('reads by GET, searches by form POST _search (GET when refused); failures omitted; unresolved templates skipped', async () => {
    const result = await resolvePrefetch(
      {
        patient: 'Patient/{{context.patientId}}',
        conditions: 'Condition?patient={{context.patientId}}',
        procedures: 'Procedure?patient={{context.patientId}}&status=completed',
        allergies: 'AllergyIntolerance?patient={{context.patientId}}',
        encounter: 'Encounter/{{context.encounterId}}',
      },
      { patientId: 'p1', userId: 'Practitioner/d' },
      `${url}/`,
    );
    expect(Object.keys(result.prefetch).sort()).toEqual(['conditions', 'patient', 'procedures']);
    expect(result.skipped).toEqual(['encounter']);
    const conditionSearch = seen.find((s) => s.path === '/Condition/_search')!;
    expect(conditionSearch).toEqual({ method: 'POST', path: '/Condition/_search', type: 'application/x-www-form-urlencoded', body: 'patient=p1' });
    expect(seen.filter((s) => s.path.startsWith('/Procedure')).map((s) => `${s.method} ${s.path}`)).toEqual(['POST /Procedure/_search', 'GET /Procedure?patient=p1&status=completed']);
  });
});
