import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { RequestInvalidError } from '../errors';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../security/json-depth';

/**
 * Request bodies: JSON and FHIR JSON through Fastify's secure parser (prototype-poisoning keys are
 * refused), then a nesting-depth limit. text/plain is not accepted (415 instead of reaching validation).
 */
const jsonBody: FastifyPluginAsync = async (app) => {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(['application/json', 'application/fhir+json'], { parseAs: 'string' }, (request, body, done) => {
    parse(request, body as string, (error, value) => {
      if (error) return done(error, undefined);
      if (exceedsJsonDepth(value, MAX_JSON_DEPTH)) return done(new RequestInvalidError(`The request body is nested more than ${MAX_JSON_DEPTH} levels deep`), undefined);
      return done(null, value);
    });
  });
};

export default fp(jsonBody, { name: 'cds-json-body', fastify: '5.x' });
