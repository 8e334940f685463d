import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import request from 'supertest';
import { compileRequestSchema } from '../../src/engine/validate-request';
import { RequestInvalidError } from '../../src/errors';
import errorHandlerPlugin from '../../src/plugins/error-handler';

/**
 * The error-handler plugin alone: a route schema failure that no route formatter words (the app's
 * routes all word their own) is still a 400 OperationOutcome naming the fields; a formatter's
 * CdsError is answered as it is; unknown routes are 404s.
 */
let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify();
  // The plugin declares its dependency on request-log (request.cds); a stand-in provides it.
  await app.register(
    fp(
      async (instance) => {
        instance.decorateRequest('cds', null as never);
        instance.addHook('onRequest', async (req) => {
          req.cds = {};
        });
      },
      { name: 'request-log' },
    ),
  );
  await app.register(errorHandlerPlugin);
  app.setValidatorCompiler(compileRequestSchema);
  const querystring = Type.Object({ n: Type.String({ pattern: '^[0-9]+$' }) }, { additionalProperties: false });
  app.get('/plain', { schema: { querystring } }, async () => ({ ok: true }));
  app.get('/worded', { schema: { querystring }, schemaErrorFormatter: () => new RequestInvalidError('n: say it with digits', ['n']) }, async () => ({
    ok: true,
  }));
  await app.ready();
});
afterAll(() => app.close());

const issueOf = (body: { issue: { code: string; details: { coding: { code: string }[]; text: string }; expression?: string[] }[] }) => body.issue[0]!;

test('a schema failure without a formatter: 400, CDS_REQUEST_INVALID, every field named', async () => {
  const response = await request(app.server).get('/plain?n=x&m=1');
  expect(response.status).toBe(400);
  expect(response.headers['content-type']).toMatch(/^application\/fhir\+json/);
  const issue = issueOf(response.body);
  expect(issue.code).toBe('invalid');
  expect(issue.details.coding[0]!.code).toBe('CDS_REQUEST_INVALID');
  expect(issue.details.text).toBe('Invalid request querystring: m: is not an allowed field; n: must match pattern "^[0-9]+$"');
  expect(issue.expression).toEqual(['m', 'n']);
});

test("a route formatter's CdsError is answered as it stands", async () => {
  const response = await request(app.server).get('/worded?n=x');
  expect(response.status).toBe(400);
  expect(issueOf(response.body).details.text).toBe('n: say it with digits');
  expect(issueOf(response.body).expression).toEqual(['n']);
});

test('valid requests pass; unknown routes are 404 OperationOutcomes', async () => {
  expect((await request(app.server).get('/plain?n=12')).body).toEqual({ ok: true });
  const missing = await request(app.server).get('/nowhere?secret=1');
  expect(missing.status).toBe(404);
  expect(issueOf(missing.body).details.text).toBe('No route for GET /nowhere');
});
