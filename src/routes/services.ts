import type { FastifyPluginAsync } from 'fastify';
import type { HookCallObserver } from '../audit/hook-call';
import { FhirServerNotAllowedError, ServiceNotFoundError } from '../errors';
import { runHook, type HookDeps } from '../engine/run-hook';
import { validateHookRequest } from '../engine/validate-request';
import { clientOf } from '../auth/client-ref';

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

/** POST /cds-services/{id}: validate, run the hook, answer `{cards}`. Errors go to the app's handler. */
export const serviceRoutes: FastifyPluginAsync<{ deps: HookDeps; onAnswered?: HookCallObserver }> = async (app, { deps, onAnswered }) => {
  app.post<{ Params: { id: string } }>('/cds-services/:id', async (request) => {
    const service = deps.catalog.services.get(request.params.id);
    if (!service) throw new ServiceNotFoundError(request.params.id.slice(0, 64));
    request.cds.serviceId = service.id;
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
