import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Dispatcher } from 'undici';
import { FhirClient, fhirPool } from '../fhir/fhir-client';
import { WorkSlots } from '../fhir/work-slots';

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's FHIR client; each hook call takes its own view with `forCall()`. */
    fhirClient: FhirClient;
  }
}

/**
 * One connection pool and one set of decode slots per app: every hook call's client (forCall) shares
 * them. The pool is destroyed on close; an injected dispatcher (tests, benchmarks) is left alone.
 */
const fhirClientPlugin: FastifyPluginAsync<{ dispatcher?: Dispatcher }> = async (app, options) => {
  const { config, metrics } = app;
  let dispatcher = options.dispatcher;
  if (!dispatcher) {
    const pool = fhirPool(config.fhirMaxSocketsPerOrigin);
    app.addHook('onClose', async () => pool.destroy());
    dispatcher = pool;
  }
  const fhirClient = new FhirClient({
    dispatcher,
    decodeSlots: new WorkSlots(config.fhirMaxConcurrentDecodes),
    maxPages: config.fhirMaxPages,
    maxResponseBytes: config.fhirMaxResponseBytes,
    maxResources: config.fhirMaxResources,
    maxCallBytes: config.fhirMaxCallBytes,
    observe: ({ outcome, durationMs }) => {
      metrics.fhirRequests.inc({ outcome });
      metrics.fhirDuration.observe({ outcome }, durationMs / 1000);
    },
  });
  app.decorate('fhirClient', fhirClient);
};

export default fp(fhirClientPlugin, { name: 'fhir-client', fastify: '5.x', dependencies: ['config', 'metrics'] });
