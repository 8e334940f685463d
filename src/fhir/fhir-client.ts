import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import { Agent, request, type Dispatcher } from 'undici';
import type { AnyResource } from '../schemas/fhir-resource';
import { exceedsJsonDepth } from '../security/json-depth';
import { ByteBudget, WorkSlots } from './work-slots';

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
  /** HTTP connection pool; by default one shared keep-alive pool for all FHIR servers. */
  dispatcher?: Dispatcher;
  /** Searchset pages followed per query (Bundle next links). */
  maxPages: number;
  /** Bytes read from one response before giving up (counted after decompression). */
  maxResponseBytes: number;
  /** Resources accepted per query, across pages. */
  maxResources: number;
  /** Inflated bytes one hook call may read across all its queries (see forCall); unbounded when absent. */
  maxCallBytes?: number;
  /** Process-wide cap on answers being inflated and parsed at once; shared by every call's client. */
  decodeSlots?: WorkSlots;
  /** Told about every HTTP request (outcome and duration) for metrics; must not throw. */
  observe?: (event: FhirRequestEvent) => void;
}

export interface FhirRequestEvent {
  outcome: 'ok' | FhirFailure;
  durationMs: number;
}

/**
 * A pool for FHIR servers. undici's request() rather than fetch(): the same library under Node's
 * fetch without the WHATWG streams layer, a third of fetch's CPU per query in bench/ (the
 * no-prefetch path makes eight queries per hook call). Redirects are never followed (undici's
 * default). `connections` caps the sockets per origin, so a hung server cannot collect thousands of
 * them; a query queued for a socket still ends at its deadline (requestUntil).
 */
export function fhirPool(maxSocketsPerOrigin: number): Agent {
  return new Agent({ keepAliveTimeout: 10_000, connections: maxSocketsPerOrigin });
}

/** The pool of clients built without one (the CLI, unit tests). */
const sharedPool = fhirPool(16);

/** Decode slots of clients built without any: one set per process. */
const sharedDecodeSlots = new WorkSlots(4);

/** How many times `needle` occurs in `text`, stopping once past `stopAfter`. */
function countOccurrences(text: string, needle: string, stopAfter: number): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1 && count <= stopAfter; at = text.indexOf(needle, at + needle.length)) count += 1;
  return count;
}

type Inflate = (buffer: InputType, options: ZlibOptions) => Promise<Buffer>;

/** Content-Encodings a FHIR server may answer with (those we ask for). A Map: no prototype keys. */
const DECODERS = new Map<string, Inflate>([
  ['gzip', promisify(gunzip) as Inflate],
  ['x-gzip', promisify(gunzip) as Inflate],
  ['deflate', promisify(inflate) as Inflate],
  ['br', promisify(brotliDecompress) as Inflate],
]);

/**
 * Drops a body we will not read (and its connection). undici reports a body destroyed before its
 * end as an 'error' event; with no listener that event would crash the process.
 */
function discard(body: Dispatcher.ResponseData<unknown>['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

/**
 * undici's request(), settled as soon as `signal` fires even if the request is still waiting for a
 * connection (undici notices an abort only once connected); a response that arrives afterwards
 * is dropped.
 */
function requestUntil(url: string, options: NonNullable<Parameters<typeof request>[1]>, signal: AbortSignal): Promise<Dispatcher.ResponseData<unknown>> {
  const pending = request(url, { ...options, signal });
  if (signal.aborted) {
    pending.then((late) => discard(late.body), () => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      pending.then((late) => discard(late.body), () => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (response) => {
        signal.removeEventListener('abort', onAbort);
        resolve(response);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Reads from the EHR's FHIR server: bearer token when the CDS client gave one, none when it did not
 * (the open sandbox). Every call shares the request's deadline (AbortSignal). Next links are only
 * followed on the same origin, so a hostile server cannot redirect the token elsewhere.
 */
export class FhirClient {
  private readonly dispatcher: Dispatcher;
  private readonly decodeSlots: WorkSlots;
  private readonly budget: ByteBudget;

  constructor(private readonly options: FhirClientOptions) {
    this.dispatcher = options.dispatcher ?? sharedPool;
    this.decodeSlots = options.decodeSlots ?? sharedDecodeSlots;
    this.budget = new ByteBudget(options.maxCallBytes ?? Number.POSITIVE_INFINITY);
  }

  /**
   * A client for one hook call: the same pool and decode slots, and a fresh byte budget of
   * `maxCallBytes` shared by every query of that call (~14 run in parallel on the no-prefetch path).
   */
  forCall(): FhirClient {
    return new FhirClient({ ...this.options, dispatcher: this.dispatcher, decodeSlots: this.decodeSlots });
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
    // Compressed answers: a year of labs is ~10x smaller on the wire; the size limit applies to the
    // inflated bytes, so a small "zip bomb" is still refused.
    const headers: Record<string, string> = { accept: 'application/fhir+json, application/json;q=0.9', 'accept-encoding': 'gzip, deflate, br' };
    if (token) headers.authorization = `Bearer ${token}`;
    let response: Dispatcher.ResponseData<unknown>;
    try {
      response = await requestUntil(url, { method: 'GET', headers, dispatcher: this.dispatcher }, signal);
    } catch {
      throw new FhirFetchError(signal.aborted ? abortFailure(signal) : 'network', undefined);
    }
    const status = response.statusCode;
    if (status < 200 || status > 299) {
      discard(response.body);
      if (status === 401 || status === 403) throw new FhirFetchError('unauthorized', status);
      if (status === 404 || status === 410) throw new FhirFetchError('not-found', status);
      // A redirect is never followed: the token must not travel to a server we were not given.
      if (status >= 300 && status < 400) throw new FhirFetchError('network', status);
      throw new FhirFetchError('http-error', status);
    }
    const raw = await this.readBody(response, signal);
    // Inflating and parsing are the expensive part: a few at a time per process, and not at all
    // once the call's deadline has passed.
    let release: () => void;
    try {
      release = await this.decodeSlots.acquire(signal);
    } catch {
      throw new FhirFetchError(abortFailure(signal), status);
    }
    let parsed: unknown;
    try {
      const text = await this.inflate(raw, response, signal);
      if (signal.aborted) throw new FhirFetchError(abortFailure(signal), status);
      // Every resource carries "resourceType": more of them than a query may return is refused
      // before JSON.parse materialises them (contained resources count too, erring on the safe side).
      // A server spelling the key with escapes evades this count, not the byte limits nor the count
      // after parsing.
      if (countOccurrences(text, '"resourceType"', this.options.maxResources + 1) > this.options.maxResources + 1) throw new FhirFetchError('too-large', status);
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new FhirFetchError('invalid-json', status);
      }
    } finally {
      release();
    }
    if (exceedsJsonDepth(parsed)) throw new FhirFetchError('too-deep', status);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || typeof (parsed as AnyResource).resourceType !== 'string') {
      throw new FhirFetchError('not-fhir', status);
    }
    return parsed as AnyResource;
  }

  /**
   * The bytes as sent (compressed or not), never more than the per-response limit nor what the
   * call's budget has left. Uncompressed bytes are charged to the budget as they arrive.
   */
  private async readBody(response: Dispatcher.ResponseData<unknown>, signal: AbortSignal): Promise<Buffer> {
    const { body, statusCode: status } = response;
    const limit = this.options.maxResponseBytes;
    const declared = Number(response.headers['content-length']);
    if ((Number.isFinite(declared) && declared > limit) || this.budget.remaining <= 0) {
      discard(body);
      throw new FhirFetchError('too-large', status);
    }
    const encoding = this.encodingOf(response);
    if (encoding === undefined) {
      discard(body);
      throw new FhirFetchError('invalid-json', status);
    }
    const charged = encoding === 'identity';
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of body) {
        const bytes = chunk as Buffer;
        total += bytes.byteLength;
        if (total > limit || (charged && !this.budget.take(bytes.byteLength))) {
          discard(body);
          throw new FhirFetchError('too-large', status);
        }
        chunks.push(bytes);
      }
    } catch (error) {
      if (error instanceof FhirFetchError) throw error;
      throw new FhirFetchError(signal.aborted ? abortFailure(signal) : 'network', status);
    }
    return Buffer.concat(chunks, total);
  }

  /** 'identity', a supported Content-Encoding, or undefined for one we did not ask for. */
  private encodingOf(response: Dispatcher.ResponseData<unknown>): string | undefined {
    const encoding = String(response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding === 'identity' || encoding === '') return 'identity';
    return DECODERS.has(encoding) ? encoding : undefined;
  }

  /**
   * The answer as text. Compressed answers are inflated in one call (off the event loop) with their
   * output capped by the per-response limit and by what the call's budget has left, granted before
   * inflating so parallel queries cannot overdraw it together: streaming the socket through zlib
   * cost ~10x the CPU, and a small "zip bomb" stops at the cap.
   */
  private async inflate(raw: Buffer, response: Dispatcher.ResponseData<unknown>, signal: AbortSignal): Promise<string> {
    const status = response.statusCode;
    const encoding = this.encodingOf(response);
    const decoder = encoding === undefined ? undefined : DECODERS.get(encoding);
    if (!decoder) return raw.toString('utf8');
    if (signal.aborted) throw new FhirFetchError(abortFailure(signal), status);
    const granted = this.budget.grantUpTo(this.options.maxResponseBytes);
    if (granted <= 0) throw new FhirFetchError('too-large', status);
    let inflated: Buffer;
    try {
      inflated = await decoder(raw, { maxOutputLength: granted });
    } catch (error) {
      // A refused bomb keeps its grant spent: it was inflated up to it.
      if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) throw new FhirFetchError('too-large', status);
      this.budget.refund(granted);
      throw new FhirFetchError('invalid-json', status);
    }
    this.budget.refund(granted - inflated.byteLength);
    return inflated.toString('utf8');
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

function nextLink(bundle: AnyResource): string | undefined {
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
