import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { HookCallObserver } from '../audit/hook-call';
import { FhirServerNotAllowedError, ServiceNotFoundError } from '../errors';
import { runHook, type HookDeps } from '../engine/run-hook';
import { compileRequestSchema, hookCallInvalid, validateHookRequest } from '../engine/validate-request';
import { clientOf } from '../auth/client-ref';
import type { CompiledService } from '../knowledge/types';
import { CdsHookCallSchema, ServiceParamsSchema } from '../schemas/cds-request';
import { CdsResponseSchema } from '../schemas/cds-response';

/** The origin a fhirServer names; 'null' (never allowed) for one carrying credentials, a query or a fragment. */
function originOf(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password || parsed.search || parsed.hash) return 'null';
    return parsed.origin;
  } catch {
    return 'null';
  }
}

/**
 * POST /cds-services/{id}: validate, run the hook, answer `{cards}`. Errors go to the error-handler plugin.
 * The route's schema checks what every hook call shares (an object naming a hook); the service's hook
 * module checks the rest once the hook is known to be the service's (validateHookRequest).
 */
export const serviceRoutes: FastifyPluginAsync<{ deps: HookDeps; onAnswered?: HookCallObserver }> = async (plugin, { deps, onAnswered }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(compileRequestSchema);
  const serviceOf = (id: string): CompiledService => {
    const service = deps.catalog.services.get(id);
    if (!service) throw new ServiceNotFoundError(id.slice(0, 64));
    return service;
  };
  const schema = { params: ServiceParamsSchema, body: CdsHookCallSchema, response: { 200: CdsResponseSchema } };
  // An unknown service is a 404 whatever the body holds: looked up before the body's schema runs.
  const preValidation = async (request: { params: { id: string }; cds: { serviceId?: string } }) => {
    request.cds.serviceId = serviceOf(request.params.id).id;
  };
  app.post('/cds-services/:id', { schema, schemaErrorFormatter: hookCallInvalid, preValidation }, async (request) => {
    const service = serviceOf(request.params.id);
    const hookRequest = validateHookRequest(service, request.body);
    request.cds.hook = hookRequest.hook;
    request.cds.hookInstance = hookRequest.hookInstance;
    // SSRF guard: with CDS_FHIR_SERVER_ALLOWLIST set, the service (and the access token) only go to listed servers.
    const allowlist = app.config.fhirServerAllowlist;
    if (allowlist && hookRequest.fhirServer !== undefined && !allowlist.includes(originOf(hookRequest.fhirServer))) {
      throw new FhirServerNotAllowedError();
    }
    const calledAt = deps.now();
    // A client of its own per call: its FHIR byte budget (CDS_FHIR_MAX_CALL_BYTES) spans every query.
    const outcome = await runHook(service, hookRequest, { ...deps, fhirClient: deps.fhirClient.forCall() });
    request.cds.cardCount = outcome.cards.length;
    request.cds.ruleIds = outcome.ruleIds;
    request.cds.prefetch = outcome.keys;
    request.cds.fhirFetches = outcome.fetchCount;
    // Audit and metrics only queue work here: nothing they do can delay or fail the answer.
    try {
      onAnswered?.({
        serviceId: service.id,
        hook: hookRequest.hook,
        hookInstance: hookRequest.hookInstance,
        patientId: hookRequest.context.patientId,
        calledAt,
        outcome,
        client: clientOf(request.cdsClient),
      });
    } catch (error) {
      request.log.error({ err: { message: (error as Error).message } }, 'hook call observer failed');
    }
    return { cards: outcome.cards };
  });
};
