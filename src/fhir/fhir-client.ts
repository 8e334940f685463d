import type { AnyResource } from '../engine/resource-index';
import { exceedsJsonDepth } from '../security/json-depth';

/** Why a FHIR call gave no usable data. Stable codes for logs and metrics, never shown with PHI. */
export type FhirFailure =
  | 'timeout'
  | 'network'
  | 'unauthorized'
  | 'not-found'
  | 'http-error'
  | 'invalid-json'
  | 'not-fhir'
  | 'too-large'
  | 'too-many-pages'
  | 'foreign-next-link'
  | 'operation-outcome'
  | 'too-deep'
  | 'cancelled';

export class FhirFetchError extends Error {
  constructor(
    readonly reason: FhirFailure,
    readonly status?: number,
  ) {
    super(status ? `${reason} (HTTP ${status})` : reason);
    this.name = 'FhirFetchError';
  }
}

/** Why a signal fired: the request's deadline, or the caller abandoning the query (another required one failed). */
function abortFailure(signal: AbortSignal): FhirFailure {
  return (signal.reason as { name?: unknown } | undefined)?.name === 'TimeoutError' ? 'timeout' : 'cancelled';
}

export interface FhirClientOptions {
  /** Injected for tests of the client alone; the service uses Node's fetch. */
  fetch?: typeof fetch;
  /** Searchset pages followed per query (Bundle next links). */
  maxPages: number;
  /** Bytes read from one response before giving up. */
  maxResponseBytes: number;
  /** Resources accepted per query, across pages. */
  maxResources: number;
  /** Told about every HTTP request (outcome and duration) for metrics; must not throw. */
  observe?: (event: FhirRequestEvent) => void;
}

export interface FhirRequestEvent {
  outcome: 'ok' | FhirFailure;
  durationMs: number;
}

/**
 * Reads from the EHR's FHIR server: bearer token when the CDS client gave one, none when it did not
 * (the open sandbox). Every call shares the request's deadline (AbortSignal). Next links are only
 * followed on the same origin, so a hostile server cannot redirect the token elsewhere.
 */
export class FhirClient {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: FhirClientOptions) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  private async get(url: string, token: string | undefined, signal: AbortSignal): Promise<AnyResource> {
    const observe = this.options.observe;
    if (!observe) return this.request(url, token, signal);
    const started = performance.now();
    try {
      const resource = await this.request(url, token, signal);
      observe({ outcome: 'ok', durationMs: performance.now() - started });
      return resource;
    } catch (error) {
      observe({ outcome: error instanceof FhirFetchError ? error.reason : 'network', durationMs: performance.now() - started });
      throw error;
    }
  }

  private async request(url: string, token: string | undefined, signal: AbortSignal): Promise<AnyResource> {
    const headers: Record<string, string> = { accept: 'application/fhir+json, application/json;q=0.9' };
    if (token) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await this.fetchImpl(url, { headers, signal, redirect: 'error' });
    } catch {
      throw new FhirFetchError(signal.aborted ? abortFailure(signal) : 'network', undefined);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel().catch(() => undefined);
      throw new FhirFetchError('unauthorized', response.status);
    }
    if (response.status === 404 || response.status === 410) {
      await response.body?.cancel().catch(() => undefined);
      throw new FhirFetchError('not-found', response.status);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new FhirFetchError('http-error', response.status);
    }
    const text = await this.readBody(response, signal);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new FhirFetchError('invalid-json', response.status);
    }
    if (exceedsJsonDepth(parsed)) throw new FhirFetchError('too-deep', response.status);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || typeof (parsed as AnyResource).resourceType !== 'string') {
      throw new FhirFetchError('not-fhir', response.status);
    }
    return parsed as AnyResource;
  }

  private async readBody(response: Response, signal: AbortSignal): Promise<string> {
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > this.options.maxResponseBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new FhirFetchError('too-large', response.status);
    }
    if (!response.body) return '';
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > this.options.maxResponseBytes) {
          await reader.cancel().catch(() => undefined);
          throw new FhirFetchError('too-large', response.status);
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof FhirFetchError) throw error;
      throw new FhirFetchError(signal.aborted ? abortFailure(signal) : 'network', response.status);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Instance read. A missing resource (404/410) is "no data", not an error. */
  async read(url: string, token: string | undefined, signal: AbortSignal): Promise<AnyResource | null> {
    try {
      const resource = await this.get(url, token, signal);
      if (resource.resourceType === 'OperationOutcome') throw new FhirFetchError('operation-outcome');
      return resource;
    } catch (error) {
      if (error instanceof FhirFetchError && error.reason === 'not-found') return null;
      throw error;
    }
  }

  /** Search: every page's entries, following `next` links on the same origin up to the bounds. */
  async search(url: string, token: string | undefined, signal: AbortSignal): Promise<AnyResource[]> {
    const first = await this.get(url, token, signal);
    return this.collect(first, url, token, signal, 1);
  }

  /** The rest of a prefetched, paginated Bundle: its next links, fetched from the client's FHIR server. */
  async continueBundle(first: AnyResource, fhirServer: string, token: string | undefined, signal: AbortSignal): Promise<AnyResource[]> {
    return this.collect(first, fhirServer, token, signal, 0);
  }

  private async collect(first: AnyResource, base: string, token: string | undefined, signal: AbortSignal, pagesFetched: number): Promise<AnyResource[]> {
    const origin = new URL(base).origin;
    const out: AnyResource[] = [];
    let page: AnyResource = first;
    let pages = pagesFetched;
    for (;;) {
      if (page.resourceType === 'OperationOutcome') throw new FhirFetchError('operation-outcome');
      if (page.resourceType !== 'Bundle') throw new FhirFetchError('not-fhir');
      for (const resource of bundleResources(page)) {
        out.push(resource);
        if (out.length > this.options.maxResources) throw new FhirFetchError('too-large');
      }
      const next = nextLink(page);
      if (!next) return out;
      let resolved: URL;
      try {
        resolved = new URL(next, base);
      } catch {
        throw new FhirFetchError('foreign-next-link');
      }
      if (resolved.origin !== origin) throw new FhirFetchError('foreign-next-link');
      pages += 1;
      if (pages > this.options.maxPages) throw new FhirFetchError('too-many-pages');
      page = await this.get(resolved.toString(), token, signal);
    }
  }
}

/** The resources of a Bundle's entries, skipping malformed entries and search outcome entries. */
export function bundleResources(bundle: AnyResource): AnyResource[] {
  const entries = bundle.entry;
  if (!Array.isArray(entries)) return [];
  const out: AnyResource[] = [];
  for (const entry of entries) {
    if (!entry || typeof entry !== 'object') continue;
    const resource = (entry as { resource?: unknown }).resource;
    const mode = ((entry as { search?: { mode?: unknown } }).search ?? {}).mode;
    if (mode === 'outcome') continue;
    if (resource && typeof resource === 'object' && !Array.isArray(resource) && typeof (resource as AnyResource).resourceType === 'string') {
      out.push(resource as AnyResource);
    }
  }
  return out;
}

export function nextLink(bundle: AnyResource): string | undefined {
  const links = bundle.link;
  if (!Array.isArray(links)) return undefined;
  for (const link of links) {
    if (link && typeof link === 'object' && (link as { relation?: unknown }).relation === 'next') {
      const url = (link as { url?: unknown }).url;
      if (typeof url === 'string' && url.length > 0) return url;
    }
  }
  return undefined;
}
