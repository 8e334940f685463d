import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A synthetic SMART App Launch authorization server for the demo FHIR server: enough for an EHR
 * launch and a standalone launch of our app on localhost, nothing more. No users, no consent screen:
 * every request for a well-formed client is approved at once. Never use it with real data.
 *
 *   GET  {fhir}/.well-known/smart-configuration   discovery (SMART App Launch 2.x)
 *   GET  {fhir}/auth/authorize                    → 302 to redirect_uri with code and state
 *   POST {fhir}/auth/token                        code (+ PKCE S256 verifier) → access token, patient, appContext
 *
 * The EHR launch parameter is what the demo EHR page writes: base64url JSON
 * `{"patient":"zol-01","appContext":"…"}` (the card link's appContext, handed back unchanged in the
 * token response, as CDS Hooks 2.0 Link.appContext describes). Without `launch` (standalone), the
 * context is the demo patient given at start (the first one).
 *
 * Tokens are opaque (`demo-smart.<random>`), held in memory for an hour. The FHIR server stays open
 * (the CDS Hooks sandbox and our service call it without tokens), but a request that presents one of
 * these tokens after it expired, or one it never issued, is refused with 401.
 */
export interface SmartAuthOptions {
  /** The patient a standalone launch gets (no patient picker here). */
  standalonePatient: () => Promise<string | undefined>;
  now?: () => number;
}

export interface SmartAuth {
  /** Answers the request if it is one of the endpoints above; false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, baseUrl: string, cors: Record<string, string>): Promise<boolean>;
  /** For FHIR requests: refused when a demo token is presented that is unknown or expired. */
  refuses(req: IncomingMessage): boolean;
}

interface Grant {
  clientId: string;
  redirectUri: string;
  patient: string;
  appContext: string | undefined;
  scope: string;
  codeChallenge: string | undefined;
  expiresAt: number;
}

const CODE_TTL_MS = 60_000;
const TOKEN_TTL_S = 3600;
const TOKEN_PREFIX = 'demo-smart.';
const MAX_ENTRIES = 10_000;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const SCOPES = ['launch', 'launch/patient', 'openid', 'fhirUser', 'patient/*.read', 'patient/*.rs', 'offline_access'];

const base64url = (bytes: Buffer) => bytes.toString('base64url');

/** The demo EHR's launch parameter: base64url JSON { patient, appContext? }. */
export function encodeDemoLaunch(patient: string, appContext?: string): string {
  return Buffer.from(JSON.stringify({ patient, ...(appContext ? { appContext } : {}) }), 'utf8').toString('base64url');
}

function decodeLaunch(launch: string): { patient: string; appContext: string | undefined } | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(launch, 'base64url').toString('utf8')) as { patient?: unknown; appContext?: unknown };
    if (typeof parsed.patient !== 'string' || !ID.test(parsed.patient)) return undefined;
    const appContext = typeof parsed.appContext === 'string' && parsed.appContext.length <= 2000 ? parsed.appContext : undefined;
    return { patient: parsed.patient, appContext };
  } catch {
    return undefined;
  }
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 16_384) {
        reject(new Error('body too large'));
        req.destroy();
      }
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Bounded maps: expired entries go first; beyond the cap, the oldest. */
function prune<T extends { expiresAt: number }>(map: Map<string, T>, now: number): void {
  for (const [key, value] of map) if (value.expiresAt <= now) map.delete(key);
  while (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
}

export function createSmartAuth(options: SmartAuthOptions): SmartAuth {
  const now = options.now ?? Date.now;
  const codes = new Map<string, Grant>();
  const tokens = new Map<string, { patient: string; expiresAt: number }>();

  const json = (res: ServerResponse, status: number, body: unknown, cors: Record<string, string>) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', pragma: 'no-cache', ...cors });
    res.end(JSON.stringify(body));
  };
  const text = (res: ServerResponse, status: number, message: string, cors: Record<string, string>) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...cors });
    res.end(`${message}\n`);
  };

  function configuration(baseUrl: string) {
    return {
      issuer: baseUrl,
      authorization_endpoint: `${baseUrl}/auth/authorize`,
      token_endpoint: `${baseUrl}/auth/token`,
      token_endpoint_auth_methods_supported: ['none'],
      grant_types_supported: ['authorization_code'],
      response_types_supported: ['code'],
      scopes_supported: SCOPES,
      code_challenge_methods_supported: ['S256'],
      capabilities: [
        'launch-ehr',
        'launch-standalone',
        'client-public',
        'context-ehr-patient',
        'context-standalone-patient',
        'permission-patient',
        'permission-v1',
        'permission-v2',
      ],
    };
  }

  async function authorize(url: URL, res: ServerResponse, baseUrl: string, cors: Record<string, string>): Promise<void> {
    const q = url.searchParams;
    const redirectUri = q.get('redirect_uri') ?? '';
    let redirect: URL;
    try {
      redirect = new URL(redirectUri);
      if (redirect.protocol !== 'http:' && redirect.protocol !== 'https:') throw new Error('scheme');
    } catch {
      return text(res, 400, 'authorize: redirect_uri must be an absolute http(s) URL', cors);
    }
    const clientId = q.get('client_id') ?? '';
    if (!/^[\x21-\x7e]{1,200}$/.test(clientId)) return text(res, 400, 'authorize: client_id is required', cors);
    // Errors the client can handle go back to it (RFC 6749 §4.1.2.1).
    const fail = (error: string, description: string) => {
      redirect.searchParams.set('error', error);
      redirect.searchParams.set('error_description', description);
      if (q.get('state')) redirect.searchParams.set('state', q.get('state')!);
      res.writeHead(302, { location: redirect.toString(), 'cache-control': 'no-store' });
      res.end();
    };
    if (q.get('response_type') !== 'code') return fail('unsupported_response_type', 'response_type must be code');
    if (!q.get('state')) return fail('invalid_request', 'state is required');
    if ((q.get('aud') ?? '').replace(/\/+$/, '') !== baseUrl) return fail('invalid_request', `aud must be this FHIR server (${baseUrl})`);
    const method = q.get('code_challenge_method');
    if (q.get('code_challenge') && method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256');
    const scope = (q.get('scope') ?? '').split(/\s+/).filter(Boolean);
    const launch = q.get('launch');
    let context: { patient: string; appContext: string | undefined } | undefined;
    if (launch) {
      if (!scope.includes('launch')) return fail('invalid_scope', 'an EHR launch needs the launch scope');
      context = decodeLaunch(launch);
      if (!context) return fail('invalid_request', 'unknown launch');
    } else {
      const patient = await options.standalonePatient();
      if (!patient) return fail('access_denied', 'no demo patient to launch with');
      context = { patient, appContext: undefined };
    }
    const code = base64url(randomBytes(24));
    prune(codes, now());
    codes.set(code, {
      clientId,
      redirectUri,
      patient: context.patient,
      appContext: context.appContext,
      scope: scope.join(' '),
      codeChallenge: q.get('code_challenge') ?? undefined,
      expiresAt: now() + CODE_TTL_MS,
    });
    redirect.searchParams.set('code', code);
    redirect.searchParams.set('state', q.get('state')!);
    res.writeHead(302, { location: redirect.toString(), 'cache-control': 'no-store' });
    res.end();
  }

  async function token(req: IncomingMessage, res: ServerResponse, cors: Record<string, string>): Promise<void> {
    let form: URLSearchParams;
    try {
      form = await readForm(req);
    } catch {
      return json(res, 400, { error: 'invalid_request', error_description: 'unreadable body' }, cors);
    }
    const invalid = (description: string) => json(res, 400, { error: 'invalid_grant', error_description: description }, cors);
    if (form.get('grant_type') !== 'authorization_code') return json(res, 400, { error: 'unsupported_grant_type' }, cors);
    const code = form.get('code') ?? '';
    const grant = codes.get(code);
    codes.delete(code); // one use only
    if (!grant || grant.expiresAt <= now()) return invalid('unknown or expired code');
    if (form.get('redirect_uri') !== grant.redirectUri) return invalid('redirect_uri differs from the authorize request');
    if ((form.get('client_id') ?? grant.clientId) !== grant.clientId) return invalid('client_id differs from the authorize request');
    if (grant.codeChallenge) {
      const verifier = form.get('code_verifier') ?? '';
      if (!sameText(createHash('sha256').update(verifier).digest('base64url'), grant.codeChallenge)) return invalid('PKCE verification failed');
    }
    const accessToken = `${TOKEN_PREFIX}${base64url(randomBytes(32))}`;
    prune(tokens, now());
    tokens.set(accessToken, { patient: grant.patient, expiresAt: now() + TOKEN_TTL_S * 1000 });
    return json(
      res,
      200,
      {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: TOKEN_TTL_S,
        scope: grant.scope,
        patient: grant.patient,
        need_patient_banner: true,
        ...(grant.appContext ? { appContext: grant.appContext } : {}),
      },
      cors,
    );
  }

  return {
    async handle(req, res, path, baseUrl, cors) {
      const method = (req.method ?? 'GET').toUpperCase();
      if (path === '/.well-known/smart-configuration' && method === 'GET') {
        json(res, 200, configuration(baseUrl), cors);
        return true;
      }
      if (path === '/auth/authorize' && method === 'GET') {
        await authorize(new URL(req.url ?? '/', 'http://demo.invalid'), res, baseUrl, cors);
        return true;
      }
      if (path === '/auth/token' && method === 'POST') {
        await token(req, res, cors);
        return true;
      }
      return false;
    },
    refuses(req) {
      const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      if (!match || !match[1]!.startsWith(TOKEN_PREFIX)) return false;
      const entry = tokens.get(match[1]!);
      return !entry || entry.expiresAt <= now();
    },
  };
}
