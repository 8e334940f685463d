import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_SEARCH_COUNT, getSearchParameter, getStatus, isOperationOutcome, normalizeOperationOutcome } from '@medplum/core';
import type { Bundle, BundleLink, CapabilityStatement, CapabilityStatementRestResource, OperationOutcome, Resource, ResourceType } from '@medplum/fhirtypes';
import { FhirRouter, MemoryRepository, type FhirRequest, type HttpMethod } from '@medplum/fhir-router';
import { indexR4Definitions } from './fhir-definitions';
import { createSmartAuth } from './smart-auth';

/**
 * A demo FHIR R4 server: @medplum/fhir-router + MemoryRepository behind node:http, with the shims
 * the CDS Hooks sandbox and our service need (../shared/reference/cds-hooks/sandbox-interop.md):
 *   - a bare id in a reference search parameter (`patient=pt-1`) means `Patient/pt-1`;
 *   - form-encoded `POST {type}/_search`;
 *   - `GET /metadata` answers a CapabilityStatement;
 *   - search Bundles carry `fullUrl` on every entry and `self`/`next`/`previous` links.
 * Open (no auth) and in memory: for demos and tests only, never for real data. It also plays a
 * synthetic SMART authorization server (smart-auth.ts) so the SMART app can be launched against it.
 */
export interface DemoFhirServerOptions {
  /** Listen address; 127.0.0.1 by default so the open server is not reachable from the network. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Origins allowed by CORS: '*' (default: the sandbox runs in the browser, from any origin) or a list. */
  corsOrigins?: '*' | string[];
  /**
   * Base URL for fullUrl and paging links. Default: taken from each request's Host header, so links
   * use the origin the client called (localhost vs 127.0.0.1 matters: clients follow `next` only on
   * the origin they were given). Set it when a proxy or tunnel rewrites Host.
   */
  publicBaseUrl?: string;
  /** One line per request (method, path, status) — for `--verbose`. */
  log?: (line: string) => void;
  /** The patient a standalone SMART launch gets; default: the first Patient by id. */
  standalonePatient?: string;
}

export interface DemoFhirServer {
  url: string;
  repo: MemoryRepository;
  router: FhirRouter;
  /** Runs one FHIR interaction in process (used to load transaction bundles). */
  handle(method: HttpMethod, path: string, body?: unknown): Promise<{ status: number; body: Resource }>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** Resource types the demo data and the service use; listed in the CapabilityStatement. */
const CAPABILITY_TYPES: ResourceType[] = [
  'Patient', 'Practitioner', 'Condition', 'Observation', 'MedicationRequest', 'MedicationStatement',
  'MedicationAdministration', 'Medication', 'Procedure', 'ServiceRequest', 'AllergyIntolerance',
  'FamilyMemberHistory', 'Encounter',
];

export function capabilityStatement(baseUrl: string): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'zoledronic-cds demo FHIR server (Medplum fhir-router 4.5.2, in memory)' },
    implementation: { description: 'Synthetic demo data only; open, unauthenticated', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        documentation: 'Open server (no SMART security). Bare ids are accepted in reference search parameters.',
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
        resource: CAPABILITY_TYPES.map(
          (type): CapabilityStatementRestResource => ({
            type,
            interaction: (['read', 'vread', 'update', 'delete', 'history-instance', 'create', 'search-type'] as const).map((code) => ({ code })),
            updateCreate: true,
          }),
        ),
      },
    ],
  };
}

/**
 * `patient=pt-1` → `patient=Patient/pt-1` (and `subject=pt-1` → `Group/pt-1,Patient/pt-1`): the FHIR
 * search spec lets a client give a bare id when the target type is implied; MemoryRepository only
 * matches full references.
 */
export function qualifyReferenceParams(resourceType: string, params: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const [name, value] of params) {
    const [code, modifier] = name.split(':');
    const definition = code ? getSearchParameter(resourceType, code) : undefined;
    if (definition?.type !== 'reference' || !definition.target?.length) {
      out.append(name, value);
      continue;
    }
    const targets = modifier && definition.target.includes(modifier as never) ? [modifier] : definition.target;
    const qualified = value
      .split(',')
      .flatMap((v) => (v === '' || v.includes('/') || v.includes(':') ? [v] : targets.map((t) => `${t}/${v}`)))
      .join(',');
    // Speed, not semantics: `patient` is defined as `X.subject.where(resolve() is Patient)`, which
    // MemoryRepository evaluates slowly (~1 ms per resource); with Patient/… values it is `subject`.
    const fastName =
      code === 'patient' && !modifier && definition.expression?.includes('resolve() is Patient') && getSearchParameter(resourceType, 'subject') && qualified.split(',').every((v) => v.startsWith('Patient/'))
        ? 'subject'
        : modifier && targets.length === 1
          ? code!
          : name;
    out.append(fastName, qualified);
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function outcome(code: OperationOutcome['issue'][number]['code'], text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, details: { text } }] };
}

function queryRecord(params: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of params) {
    const previous = query[key];
    query[key] = previous === undefined ? value : ([] as string[]).concat(previous, value);
  }
  return query;
}

export async function startDemoFhirServer(options: DemoFhirServerOptions = {}): Promise<DemoFhirServer> {
  indexR4Definitions();
  const host = options.host ?? '127.0.0.1';
  const corsOrigins = options.corsOrigins ?? '*';
  const repo = new MemoryRepository();
  const router = new FhirRouter();
  let listenUrl = '';
  /** The base URL as this request's client sees it (see publicBaseUrl). */
  const baseOf = (req: IncomingMessage | undefined): string => {
    if (options.publicBaseUrl) return options.publicBaseUrl.replace(/\/+$/, '');
    const host = req?.headers.host;
    return host && /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:]+\](:\d+)?$/.test(host) ? `http://${host}` : listenUrl;
  };

  async function route(method: HttpMethod, path: string, params: URLSearchParams, body: unknown): Promise<{ status: number; body: Resource }> {
    const request: FhirRequest = {
      method,
      // FhirRouter 4.5 routes on `url` (path + query); `query` feeds the search parser.
      url: `${path}${params.size > 0 ? `?${params.toString()}` : ''}`,
      pathname: '',
      params: {},
      query: queryRecord(params),
      body,
    };
    try {
      const [result, resource] = await router.handleRequest(request, repo);
      const status = getStatus(result);
      return { status, body: resource ?? result };
    } catch (error) {
      const normalized = normalizeOperationOutcome(error);
      return { status: getStatus(normalized), body: normalized };
    }
  }

  /** fullUrl on every entry, and paging links from `total`, `_count` and `_offset`. */
  function decorateSearchset(bundle: Bundle, resourceType: string, params: URLSearchParams, baseUrl: string): Bundle {
    for (const entry of bundle.entry ?? []) {
      if (entry.resource?.id) entry.fullUrl = `${baseUrl}/${entry.resource.resourceType}/${entry.resource.id}`;
    }
    const count = Number(params.get('_count') ?? DEFAULT_SEARCH_COUNT);
    const offset = Number(params.get('_offset') ?? 0);
    const pageUrl = (at: number) => {
      const page = new URLSearchParams(params);
      page.set('_count', String(count));
      page.set('_offset', String(at));
      return `${baseUrl}/${resourceType}?${page.toString()}`;
    };
    const link: BundleLink[] = [{ relation: 'self', url: pageUrl(offset) }];
    if (typeof bundle.total === 'number' && count > 0 && offset + count < bundle.total) link.push({ relation: 'next', url: pageUrl(offset + count) });
    if (offset > 0 && count > 0) link.push({ relation: 'previous', url: pageUrl(Math.max(0, offset - count)) });
    return { ...bundle, link };
  }

  async function search(resourceType: string, raw: URLSearchParams, baseUrl: string): Promise<{ status: number; body: Resource }> {
    const params = qualifyReferenceParams(resourceType, raw);
    // Page like a real server (MemoryRepository returns everything when no _count is given), so
    // clients exercise `next` links.
    if (!params.has('_count')) params.set('_count', String(DEFAULT_SEARCH_COUNT));
    const result = await route('GET', `/${resourceType}`, params, undefined);
    if (result.status === 200 && result.body.resourceType === 'Bundle') return { status: 200, body: decorateSearchset(result.body, resourceType, params, baseUrl) };
    return result;
  }

  function corsHeaders(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    const allowed = corsOrigins === '*' ? '*' : origin && corsOrigins.includes(origin) ? origin : undefined;
    if (!allowed) return {};
    return {
      'access-control-allow-origin': allowed,
      'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
      'access-control-allow-headers': 'Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Exist',
      'access-control-expose-headers': 'Location, ETag, Content-Location',
      'access-control-max-age': '600',
      ...(allowed === '*' ? {} : { vary: 'Origin' }),
      // Chrome's Private Network Access preflight: a public https page (the sandbox) calling localhost.
      ...(req.headers['access-control-request-private-network'] === 'true' ? { 'access-control-allow-private-network': 'true' } : {}),
    };
  }

  async function dispatch(req: IncomingMessage): Promise<{ status: number; body: Resource }> {
    const method = (req.method ?? 'GET').toUpperCase() as HttpMethod;
    const url = new URL(req.url ?? '/', 'http://demo.invalid');
    const segments = url.pathname.split('/').filter(Boolean);
    const baseUrl = baseOf(req);
    if (method === 'GET' && segments.length === 1 && segments[0] === 'metadata') return { status: 200, body: capabilityStatement(baseUrl) };

    const text = method === 'POST' || method === 'PUT' ? await readBody(req) : '';
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

    // POST {type}/_search: parameters in the query and/or a form-encoded body (FHIR R4 §3.1.0.8.1).
    if (method === 'POST' && segments.length === 2 && segments[1] === '_search') {
      const params = new URLSearchParams(url.search);
      if (contentType === 'application/x-www-form-urlencoded' || (contentType === '' && text.length > 0)) {
        for (const [key, value] of new URLSearchParams(text)) params.append(key, value);
      } else if (text.trim().length > 0) return { status: 415, body: outcome('not-supported', '_search needs application/x-www-form-urlencoded') };
      return search(segments[0]!, params, baseUrl);
    }
    if (method === 'GET' && segments.length === 1 && /^[A-Z][A-Za-z]+$/.test(segments[0]!)) return search(segments[0]!, url.searchParams, baseUrl);

    let body: unknown;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        return { status: 400, body: outcome('structure', 'The body is not valid JSON') };
      }
    }
    return route(method, url.pathname, url.searchParams, body);
  }

  const smart = createSmartAuth({
    standalonePatient: async () => {
      if (options.standalonePatient) return options.standalonePatient;
      const ids = (await route('GET', '/Patient', new URLSearchParams({ _count: '1000', _elements: 'id' }), undefined)).body;
      const entries = (ids as Bundle | undefined)?.entry ?? [];
      return entries.map((e) => e.resource?.id).filter((id): id is string => typeof id === 'string').sort()[0];
    },
  });

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const cors = corsHeaders(req);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://demo.invalid').pathname;
    if (path === '/.well-known/smart-configuration' || path.startsWith('/auth/')) {
      smart
        .handle(req, res, path, baseOf(req), cors)
        .then((handled) => {
          if (!handled) {
            res.writeHead(404, { 'content-type': FHIR_JSON, ...cors });
            res.end(JSON.stringify(outcome('not-found', `No route for ${req.method} ${path}`)));
          }
          options.log?.(`${req.method} ${path} ${res.statusCode}`);
        })
        .catch(() => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('internal error');
        });
      return;
    }
    if (smart.refuses(req)) {
      res.writeHead(401, { 'content-type': FHIR_JSON, 'www-authenticate': 'Bearer error="invalid_token"', ...cors });
      res.end(JSON.stringify(outcome('login', 'The access token is unknown or expired')));
      options.log?.(`${req.method} ${req.url} 401`);
      return;
    }
    dispatch(req)
      .catch((error: unknown) => {
        const status = (error as { status?: number }).status ?? 500;
        return { status, body: status === 413 ? outcome('too-costly', 'Request body too large') : outcome('exception', 'Internal error') as Resource };
      })
      .then(({ status, body }) => {
        const headers: Record<string, string> = { 'content-type': FHIR_JSON, ...cors };
        if (status === 201 && !isOperationOutcome(body) && body.id) headers.location = `${baseOf(req)}/${body.resourceType}/${body.id}`;
        res.writeHead(status, headers);
        res.end(JSON.stringify(body));
        options.log?.(`${req.method} ${req.url} ${status}`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  listenUrl = `http://${shownHost}:${address.port}`;

  return {
    url: (options.publicBaseUrl ?? listenUrl).replace(/\/+$/, ''),
    repo,
    router,
    handle: (method, path, body) => {
      const url = new URL(path, 'http://demo.invalid');
      return route(method, url.pathname, url.searchParams, body);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
