import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { createAjv, summarizeErrors } from '../knowledge/ajv';

/** One environment variable: its TypeBox schema (validation, default, type) and the Config property it fills. */
interface Setting<S extends TSchema, P extends string | undefined> {
  schema: S;
  /** The Config property that takes the value as is; undefined when deriveSettings computes properties from it. */
  property: P;
}
const setting = <P extends string, S extends TSchema>(property: P, schema: S): Setting<S, P> => ({ schema, property });
const derived = <S extends TSchema>(schema: S): Setting<S, undefined> => ({ schema, property: undefined });

/**
 * Environment variables (../shared/design/runtime-contract.md), one entry each: this table is the
 * validation, the defaults, the Env type and (through `property`) the Config type. Values arrive as
 * strings and are converted here, once. A new setting is one entry (and a README row).
 */
export const SETTINGS = {
  NODE_ENV: derived(Type.Optional(Type.String())),
  PORT: setting('port', Type.Integer({ minimum: 0, maximum: 65535, default: 8080 })),
  /** Listen address: 127.0.0.1 by default outside production (a laptop with CDS_AUTH=off is not an open service), 0.0.0.0 in production. */
  HOST: derived(Type.Optional(Type.String({ minLength: 1 }))),
  PUBLIC_BASE_URL: derived(Type.Optional(Type.String({ format: 'uri', pattern: '^https?://' }))),
  CDS_AUTH: derived(Type.Optional(Type.Union([Type.Literal('required'), Type.Literal('off')]))),
  CDS_TRUSTED_ISSUERS: setting('trustedIssuersFile', Type.Optional(Type.String({ minLength: 1 }))),
  CDS_FHIR_TIMEOUT_MS: setting('fhirTimeoutMs', Type.Integer({ minimum: 50, maximum: 60000, default: 2000 })),
  CDS_DB_URL: setting('dbUrl', Type.String({ pattern: '^(sqlite:.+|postgres(ql)?://.+)$', default: 'sqlite:./data/cds.db' })),
  LOG_LEVEL: setting('logLevel', Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  )),
  /** Comma-separated allowed browser origins for CORS, or "*"; unset = "*" in development, none in production. */
  CDS_CORS_ORIGINS: derived(Type.Optional(Type.String({ minLength: 1 }))),
  /** Largest accepted request body; a full prefetch of a heavy chart is ~0.5 MB. */
  CDS_BODY_LIMIT_BYTES: setting('bodyLimit', Type.Integer({ minimum: 1024, maximum: 104857600, default: 8388608 })),
  CDS_FHIR_MAX_PAGES: setting('fhirMaxPages', Type.Integer({ minimum: 1, maximum: 1000, default: 20 })),
  /** Largest FHIR answer read, counted after decompression (4 MiB: a year of a heavy chart's labs is ~0.5 MB). */
  CDS_FHIR_MAX_RESPONSE_BYTES: setting('fhirMaxResponseBytes', Type.Integer({ minimum: 1024, maximum: 268435456, default: 4194304 })),
  /** Inflated bytes one hook call may read across all of its FHIR queries. */
  CDS_FHIR_MAX_CALL_BYTES: setting('fhirMaxCallBytes', Type.Integer({ minimum: 1024, maximum: 1073741824, default: 8388608 })),
  /** FHIR answers inflated and parsed at once, process-wide (the rest wait, within their deadline). */
  CDS_FHIR_MAX_CONCURRENT_DECODES: setting('fhirMaxConcurrentDecodes', Type.Integer({ minimum: 1, maximum: 256, default: 4 })),
  /** Sockets open to one FHIR origin at once, process-wide (further queries wait, within their deadline). */
  CDS_FHIR_MAX_SOCKETS_PER_ORIGIN: setting('fhirMaxSocketsPerOrigin', Type.Integer({ minimum: 1, maximum: 1024, default: 16 })),
  /** Concurrent client connections accepted by one process; beyond it new connections are closed at once. */
  CDS_MAX_CONNECTIONS: setting('maxConnections', Type.Integer({ minimum: 1, maximum: 1000000, default: 1024 })),
  CDS_FHIR_MAX_RESOURCES: setting('fhirMaxResources', Type.Integer({ minimum: 1, maximum: 1000000, default: 10000 })),
  /** Where hooks/, fhir-mappings/ and rules/ live; the project root by default. */
  CDS_KNOWLEDGE_DIR: setting('knowledgeDir', Type.Optional(Type.String({ minLength: 1 }))),
  /** Secret for the audit trail's patient-id HMAC; required in production (random per process otherwise). */
  CDS_AUDIT_HMAC_KEY: setting('auditHmacKey', Type.Optional(Type.String({ minLength: 32 }))),
  /** Audit rows and feedback older than this many days are purged; unset keeps them. */
  CDS_RETENTION_DAYS: setting('retentionDays', Type.Optional(Type.Integer({ minimum: 1, maximum: 36500 }))),
  /** Feedback older than this many days is purged (default one year); CDS_RETENTION_DAYS, when shorter, wins. */
  CDS_FEEDBACK_RETENTION_DAYS: setting('feedbackRetentionDays', Type.Integer({ minimum: 1, maximum: 36500, default: 365 })),
  /** Bytes of feedback one client (issuer + tenant) may have stored; beyond it feedback is refused with 429. */
  CDS_FEEDBACK_QUOTA_BYTES: setting('feedbackQuotaBytes', Type.Integer({ minimum: 1024, maximum: 1099511627776, default: 52428800 })),
  /** Bearer token for the feedback summary (operators without a CDS Hooks JWT). */
  CDS_ADMIN_TOKEN: setting('adminToken', Type.Optional(Type.String({ minLength: 32 }))),
  /** Audit records held in memory while the store is unavailable (oldest dropped beyond). */
  CDS_AUDIT_QUEUE_MAX: setting('auditQueueMax', Type.Integer({ minimum: 1, maximum: 1000000, default: 10000 })),
  /** Feedback userComment: "drop" keeps only that a comment was given (free text may hold PHI); "store" keeps the text. */
  CDS_FEEDBACK_COMMENTS: setting('feedbackComments', Type.Union([Type.Literal('drop'), Type.Literal('store')], { default: 'drop' })),
  /** JWT checks (docs/security.md): clock skew tolerated on exp/nbf/iat, and the oldest iat accepted. */
  CDS_JWT_CLOCK_SKEW_SECONDS: setting('jwtClockSkewSeconds', Type.Integer({ minimum: 0, maximum: 300, default: 60 })),
  CDS_JWT_MAX_AGE_SECONDS: setting('jwtMaxAgeSeconds', Type.Integer({ minimum: 10, maximum: 3600, default: 300 })),
  /** JWKS fetches (allow-listed jwks_uri only): whole-request deadline, and the pause between fetches of one set. */
  CDS_JWKS_TIMEOUT_MS: setting('jwksTimeoutMs', Type.Integer({ minimum: 100, maximum: 30000, default: 2000 })),
  CDS_JWKS_COOLDOWN_MS: setting('jwksCooldownMs', Type.Integer({ minimum: 0, maximum: 3600000, default: 30000 })),
  /**
   * Per-client abuse guard (client = verified issuer + tenant, or the IP when CDS_AUTH=off); health
   * endpoints exempt. Sized far above a health system's peak (README: 60000/min = 1000 calls/s per
   * client per replica); overload is handled by load shedding, not by this limit.
   */
  CDS_RATE_LIMIT_MAX: setting('rateLimitMax', Type.Integer({ minimum: 1, maximum: 10000000, default: 60000 })),
  CDS_RATE_LIMIT_WINDOW_MS: setting('rateLimitWindowMs', Type.Integer({ minimum: 1000, maximum: 86400000, default: 60000 })),
  /** The SMART app's OAuth client_id, as the EHR registered it (served to the app in /smart-app/config.json). */
  CDS_SMART_CLIENT_ID: setting('smartClientId', Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$', default: 'zoledronic-cds-app' })),
  /** Load shedding: answer 503 + Retry-After while the event loop lags more than this (mean over 1 s); 0 = off. */
  CDS_SHED_EVENT_LOOP_DELAY_MS: setting('shedEventLoopDelayMs', Type.Integer({ minimum: 0, maximum: 60000, default: 500 })),
  /** Load shedding on event-loop utilisation (0–1) over 1 s; 0 = off (a busy but timely replica is at ~1). */
  CDS_SHED_EVENT_LOOP_UTILIZATION: setting('shedEventLoopUtilization', Type.Number({ minimum: 0, maximum: 1, default: 0 })),
  /**
   * Comma-separated FHIR server origins a hook call may name as fhirServer; unset = any outside
   * production. Production requires it; "*" is the explicit (loudly logged) opt-out.
   */
  CDS_FHIR_SERVER_ALLOWLIST: derived(Type.Optional(Type.String({ minLength: 1 }))),
  /** Serve /metrics on this port only (not on PORT), for a monitoring-only network path; unset = on PORT. */
  CDS_METRICS_PORT: setting('metricsPort', Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 }))),
  /** HTTP worker processes (node:cluster) sharing PORT; 1 = a single process, as in containers scaled by replicas. */
  CDS_WORKERS: setting('workers', Type.Integer({ minimum: 1, maximum: 64, default: 1 })),
};
type Settings = typeof SETTINGS;

export const EnvSchema = Type.Object(
  Object.fromEntries(Object.entries(SETTINGS).map(([name, entry]) => [name, entry.schema])) as { [K in keyof Settings]: Settings[K]['schema'] },
);
export type Env = Static<typeof EnvSchema>;

/** Config properties copied from one variable each, named by the table's `property`. */
type DirectSettings = { [K in keyof Settings as Settings[K]['property'] & string]: K extends keyof Env ? Env[K] : never };

/** Config properties computed from several variables or from NODE_ENV (deriveSettings). */
interface DerivedSettings {
  production: boolean;
  host: string;
  publicBaseUrl: string;
  auth: 'required' | 'off';
  /** "*", or the allowed origins; empty = no cross-origin browser access. */
  corsOrigins: '*' | string[];
  /** Allowed fhirServer origins (normalized), or undefined when any fhirServer is accepted (unset, or "*"). */
  fhirServerAllowlist: string[] | undefined;
  /** True when CDS_FHIR_SERVER_ALLOWLIST is "*": any fhirServer, chosen explicitly (logged loudly at start). */
  fhirServerAllowAny: boolean;
}

export interface Config extends DirectSettings, DerivedSettings {
  env: Env;
}

const NUMERIC_KEYS = new Set(
  Object.entries(EnvSchema.properties)
    .filter(([, schema]) => ['integer', 'number'].includes(String((schema as { type?: unknown }).type)))
    .map(([key]) => key),
);

/** "https://a.org, http://127.0.0.1:8081" → normalized origins; anything that is not a bare http(s) origin stops start-up. */
function parseOriginList(name: string, value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      let url: URL;
      try {
        url = new URL(item);
      } catch {
        throw new TypeError(`[config] ${name}: '${item}' is not a URL`);
      }
      if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.pathname.replace(/\/+$/, '') !== '' || url.search || url.username) {
        throw new TypeError(`[config] ${name}: '${item}' must be an origin such as https://fhir.example.org`);
      }
      return url.origin;
    });
}

/** Converts numeric strings, applies defaults and validates; a bad value stops start-up naming the variable. */
function parseEnv(source: Record<string, string | undefined>): Env {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = source[key];
    if (value === undefined || value === '') continue;
    raw[key] = NUMERIC_KEYS.has(key) && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  const ajv = createAjv();
  const validate = ajv.compile<Env>(EnvSchema);
  // Apply defaults explicitly (the shared ajv does not use defaults, so FHIR objects are never altered).
  for (const [key, schema] of Object.entries(EnvSchema.properties)) {
    const fallback = (schema as { default?: unknown }).default;
    if (raw[key] === undefined && fallback !== undefined) raw[key] = fallback;
  }
  if (!validate(raw)) {
    const problems = summarizeErrors(validate.errors).map((e) => `${e.field} ${e.message}`);
    throw new TypeError(`[config] invalid environment: ${problems.join('; ')}`);
  }
  return raw as Env;
}

/** Combinations a valid environment may still not have; production refuses to start without its safeguards. */
function checkCombinations(env: Env, production: boolean, auth: DerivedSettings['auth']): void {
  if (production && auth === 'off') throw new TypeError('[config] NODE_ENV=production forbids CDS_AUTH=off');
  if (production && !env.CDS_TRUSTED_ISSUERS) throw new TypeError('[config] NODE_ENV=production requires CDS_TRUSTED_ISSUERS');
  if (auth === 'required' && !env.CDS_TRUSTED_ISSUERS) throw new TypeError('[config] CDS_AUTH=required needs CDS_TRUSTED_ISSUERS');
  // Without a stable key, audit hashes of the same patient differ between processes and replicas.
  if (production && !env.CDS_AUDIT_HMAC_KEY) throw new TypeError('[config] NODE_ENV=production requires CDS_AUDIT_HMAC_KEY (at least 32 characters)');
  // The JWT aud check compares against PUBLIC_BASE_URL: a guessed default would refuse every call
  // or, behind a proxy, accept tokens minted for another URL.
  if (production && !env.PUBLIC_BASE_URL) throw new TypeError('[config] NODE_ENV=production requires PUBLIC_BASE_URL (the https URL EHRs call)');
  // Without an allow-list the EHR's FHIR access token goes wherever a request's fhirServer says.
  if (production && !env.CDS_FHIR_SERVER_ALLOWLIST?.trim()) {
    throw new TypeError('[config] NODE_ENV=production requires CDS_FHIR_SERVER_ALLOWLIST (the FHIR server origins requests may name; "*" to allow any, not recommended)');
  }
  if (env.CDS_METRICS_PORT !== undefined && env.CDS_METRICS_PORT === env.PORT) throw new TypeError('[config] CDS_METRICS_PORT must differ from PORT');
}

function deriveSettings(env: Env): DerivedSettings {
  const production = env.NODE_ENV === 'production';
  const auth = env.CDS_AUTH ?? (production ? 'required' : 'off');
  checkCombinations(env, production, auth);
  const allowlistValue = env.CDS_FHIR_SERVER_ALLOWLIST?.trim();
  const fhirServerAllowAny = allowlistValue === '*';
  const corsValue = env.CDS_CORS_ORIGINS?.trim() ?? (production ? '' : '*');
  return {
    production,
    host: env.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
    publicBaseUrl: (env.PUBLIC_BASE_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    auth,
    corsOrigins: corsValue === '*' ? '*' : corsValue.split(',').map((o) => o.trim()).filter(Boolean),
    fhirServerAllowlist: allowlistValue && !fhirServerAllowAny ? parseOriginList('CDS_FHIR_SERVER_ALLOWLIST', allowlistValue) : undefined,
    fhirServerAllowAny,
  };
}

/** Reads and checks the environment; a bad value stops start-up with a message naming the variable. */
export function loadConfig(source: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env): Config {
  const env = parseEnv(source);
  const derivedSettings = deriveSettings(env);
  const direct: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(SETTINGS)) if (entry.property) direct[entry.property] = env[name as keyof Env];
  return { env, ...derivedSettings, ...(direct as DirectSettings) };
}
