/**
 * Errors the service answers with. Each carries a stable `code` (tests and logs match on it, never
 * on wording), the HTTP status, and becomes a FHIR OperationOutcome in one place (src/plugins/error-handler.ts).
 */
export type CdsErrorCode =
  | 'CDS_REQUEST_INVALID'
  | 'CDS_SERVICE_NOT_FOUND'
  | 'CDS_HOOK_MISMATCH'
  | 'CDS_PREFETCH_UNAVAILABLE'
  | 'CDS_FHIR_SERVER_ERROR'
  | 'CDS_BODY_TOO_LARGE'
  | 'CDS_UNSUPPORTED_MEDIA_TYPE'
  | 'CDS_UNAUTHORIZED'
  | 'CDS_RATE_LIMITED'
  | 'CDS_UNAVAILABLE'
  | 'CDS_OVERLOADED'
  | 'CDS_FHIR_SERVER_NOT_ALLOWED'
  | 'CDS_NOT_FOUND'
  | 'CDS_STORE_UNAVAILABLE'
  | 'CDS_FEEDBACK_QUOTA_EXCEEDED';

/** FHIR OperationOutcome issue types (http://hl7.org/fhir/issue-type) used by this service. */
export type IssueType = 'invalid' | 'structure' | 'required' | 'not-found' | 'not-supported' | 'too-costly' | 'exception' | 'security' | 'timeout' | 'incomplete' | 'throttled' | 'transient' | 'forbidden';

export class CdsError extends Error {
  readonly code: CdsErrorCode;
  readonly statusCode: number;
  readonly issueType: IssueType;
  /** FHIRPath-style location of the problem in the request (e.g. "context.patientId"). */
  readonly expression: string[] | undefined;

  constructor(
    code: CdsErrorCode,
    statusCode: number,
    issueType: IssueType,
    message: string,
    options: { expression?: string[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusCode;
    this.issueType = issueType;
    this.expression = options.expression;
  }
}

export class RequestInvalidError extends CdsError {
  constructor(message: string, expression?: string[]) {
    super('CDS_REQUEST_INVALID', 400, 'invalid', message, expression ? { expression } : {});
  }
}

export class HookMismatchError extends CdsError {
  constructor(serviceId: string, hook: string, served: readonly string[]) {
    super('CDS_HOOK_MISMATCH', 400, 'invalid', `Service '${serviceId}' does not serve hook '${hook}' (it serves ${served.join(', ')})`, {
      expression: ['hook'],
    });
  }
}

export class ServiceNotFoundError extends CdsError {
  constructor(serviceId: string) {
    super('CDS_SERVICE_NOT_FOUND', 404, 'not-found', `No CDS service with id '${serviceId}'`);
  }
}

/** 412: required data was neither prefetched nor obtainable from fhirServer (CDS Hooks §Prefetch). */
export class PrefetchUnavailableError extends CdsError {
  readonly missingKeys: string[];
  constructor(missingKeys: string[], reason: string) {
    super('CDS_PREFETCH_UNAVAILABLE', 412, 'incomplete', `Required FHIR data unavailable (${missingKeys.join(', ')}): ${reason}`, {
      expression: missingKeys.map((key) => `prefetch.${key}`),
    });
    this.missingKeys = missingKeys;
  }
}

/**
 * 503: the feedback/audit store cannot take a write now. Feedback is answered with this (and
 * Retry-After) rather than acknowledged from memory: a 200 means the feedback is durably stored and
 * visible to every replica, and CDS clients may resend feedback (writes are idempotent).
 */
export class StoreUnavailableError extends CdsError {
  readonly retryAfterSeconds: number;
  constructor(cause: unknown, retryAfterSeconds = 30) {
    super('CDS_STORE_UNAVAILABLE', 503, 'transient', 'The feedback store is temporarily unavailable; retry later', { cause });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * 401 for any bad or missing CDS Hooks JWT. The message is the same for every cause (CDS Hooks
 * best practice: no detail to the client); the cause is `reason`, which only the log sees.
 */
export class UnauthorizedError extends CdsError {
  constructor(readonly reason: string) {
    super('CDS_UNAUTHORIZED', 401, 'security', 'Authentication required');
  }
}

/** 429 from the per-client rate limit. */
export class RateLimitedError extends CdsError {
  constructor(retryAfterSeconds: number) {
    super('CDS_RATE_LIMITED', 429, 'throttled', `Too many requests; retry after ${retryAfterSeconds} s`);
  }
}

/** 503: this replica is overloaded (event loop too far behind); another replica, or this one shortly, can answer. */
export class OverloadedError extends CdsError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('CDS_OVERLOADED', 503, 'transient', `The service is overloaded; retry after ${retryAfterSeconds} s`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** 503: a dependency of the security checks (e.g. a shared replay cache) is down; not the client's fault. */
export class ServiceUnavailableError extends CdsError {
  /** Sent as Retry-After: the condition (a slow replay-cache store) is expected to pass quickly. */
  readonly retryAfterSeconds = 1;
  constructor(message: string) {
    super('CDS_UNAVAILABLE', 503, 'transient', message);
  }
}

/** 429: storing this feedback would take the client over its storage quota (CDS_FEEDBACK_QUOTA_BYTES). */
export class FeedbackQuotaError extends CdsError {
  constructor() {
    super('CDS_FEEDBACK_QUOTA_EXCEEDED', 429, 'too-costly', 'Feedback storage quota for this client exceeded; nothing was stored', { expression: ['feedback'] });
  }
}

/** 400: the request names a fhirServer outside CDS_FHIR_SERVER_ALLOWLIST (SSRF and token-leak guard). */
export class FhirServerNotAllowedError extends CdsError {
  constructor() {
    super('CDS_FHIR_SERVER_NOT_ALLOWED', 400, 'forbidden', 'fhirServer is not an allowed FHIR server for this service', { expression: ['fhirServer'] });
  }
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: {
    severity: 'error' | 'fatal' | 'warning' | 'information';
    code: IssueType;
    details?: { coding: { system: string; code: string }[]; text?: string };
    diagnostics?: string;
    expression?: string[];
  }[];
}

const ERROR_CODE_SYSTEM = 'https://zoledronic-cds.example.org/fhir/CodeSystem/error';

export function operationOutcome(
  code: CdsErrorCode,
  issueType: IssueType,
  message: string,
  expression?: string[],
): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: issueType,
        details: { coding: [{ system: ERROR_CODE_SYSTEM, code }], text: message },
        diagnostics: message,
        ...(expression && expression.length > 0 ? { expression } : {}),
      },
    ],
  };
}
