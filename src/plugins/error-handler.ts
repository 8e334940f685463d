import type { FastifyError, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { invalidRequest } from '../engine/validate-request';
import { CdsError, operationOutcome, OverloadedError, ServiceUnavailableError, StoreUnavailableError, type CdsErrorCode, type IssueType } from '../errors';

/** Fastify's own request errors, answered like ours. */
const FASTIFY_ERROR_OUTCOMES: Record<string, { status: number; code: CdsErrorCode; issue: IssueType; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'CDS_BODY_TOO_LARGE', issue: 'too-costly', message: 'Request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'CDS_UNSUPPORTED_MEDIA_TYPE', issue: 'not-supported', message: 'Content-Type must be application/json' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'CDS_REQUEST_INVALID', issue: 'invalid', message: 'The request body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'CDS_REQUEST_INVALID', issue: 'structure', message: 'The request body is not valid JSON' },
};

/**
 * A route schema's failure that no route formatter named (routes give their own texts through
 * `schemaErrorFormatter`, which returns a CdsError): a 400 naming the fields, like every other.
 */
function validationError(error: FastifyError): CdsError {
  return invalidRequest(`Invalid request ${error.validationContext ?? 'body'}`, error.validation);
}

/**
 * Every error becomes a FHIR OperationOutcome here, and only here: our CdsErrors, route schema
 * failures (FST_ERR_VALIDATION), Fastify's request errors, unknown routes, and bugs (500, nothing
 * leaked).
 */
const errorHandler: FastifyPluginAsync = async (app) => {
  app.setErrorHandler(async (thrown: FastifyError | CdsError, request, reply) => {
    const error = !(thrown instanceof CdsError) && thrown.validation ? validationError(thrown) : thrown;
    if (error instanceof CdsError) {
      request.cds.errorCode = error.code;
      if (error instanceof StoreUnavailableError || error instanceof ServiceUnavailableError || error instanceof OverloadedError)
        reply.header('retry-after', String(error.retryAfterSeconds));
      return reply
        .code(error.statusCode)
        .type('application/fhir+json')
        .send(operationOutcome(error.code, error.issueType, error.message, error.expression));
    }
    const err = error as { code?: string; statusCode?: number; message?: string };
    const known = err.code ? FASTIFY_ERROR_OUTCOMES[err.code] : undefined;
    if (known) {
      request.cds.errorCode = known.code;
      return reply
        .code(known.status)
        .type('application/fhir+json')
        .send(operationOutcome(known.code, known.issue, known.message));
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      request.cds.errorCode = 'CDS_REQUEST_INVALID';
      const message = err.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' ? 'Invalid Content-Length' : 'The request could not be processed';
      return reply
        .code(err.statusCode)
        .type('application/fhir+json')
        .send(operationOutcome('CDS_REQUEST_INVALID', 'invalid', message));
    }
    // A bug: log its class and stack frames — not its message, which can quote request data (a JSON
    // parse error quotes the text) — and answer with nothing that could leak internals.
    const frames = ((error as Error).stack ?? '')
      .split('\n')
      .filter((line) => /^\s+at /.test(line))
      .slice(0, 20)
      .join('\n');
    request.log.error({ bug: { name: (error as Error).name, code: err.code, frames }, hookInstance: request.cds.hookInstance }, 'unhandled error');
    return reply
      .code(500)
      .type('application/fhir+json')
      .send(operationOutcome('CDS_REQUEST_INVALID', 'exception', 'Internal server error'));
  });

  app.setNotFoundHandler(async (request, reply) => {
    request.cds.errorCode = 'CDS_NOT_FOUND';
    return reply
      .code(404)
      .type('application/fhir+json')
      .send(operationOutcome('CDS_NOT_FOUND', 'not-found', `No route for ${request.method} ${request.url.split('?')[0]}`));
  });
};

export default fp(errorHandler, { name: 'error-handler', fastify: '5.x', dependencies: ['request-log'] });
