import type { LoggerOptions } from 'pino';

/**
 * Log configuration. Logs never carry PHI or secrets: no request bodies (prefetch, context, resources),
 * no access tokens, no Authorization header. Request logging is one line per request, written by the
 * app's onResponse hook with ids and counts only; redaction is the safety net for anything else.
 */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'access_token',
  '*.access_token',
  '*.*.access_token',
  'fhirAuthorization',
  '*.fhirAuthorization',
  'prefetch',
  '*.prefetch',
  'context',
  '*.context',
  'body',
  '*.body',
  'token',
  '*.token',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'zoledronic-cds' },
    serializers: {
      // Method and route only: URLs can carry patient ids in query strings of other endpoints.
      req: (req: { method?: string; routeOptions?: { url?: string }; url?: string }) => ({ method: req.method, route: req.routeOptions?.url }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
}
