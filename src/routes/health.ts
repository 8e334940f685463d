import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { LivenessResponseSchema, ReadinessResponseSchema } from '../schemas/health';

/**
 * Liveness (the process answers) and readiness (knowledge loaded; store state reported).
 *
 * A store outage makes /readyz answer 200 with `"status": "degraded"`, not 503: cards need no
 * database (audit records wait in memory, feedback answers 503), and a 503 from every replica at
 * once — the store is shared — would take the whole service out of the load balancer and leave
 * clinicians with no advice at all. Alert on the body or on `cds_store_up == 0` instead.
 */
export const healthRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/healthz', { schema: { response: { 200: LivenessResponseSchema } } }, async () => ({ status: 'ok' as const }));
  app.get('/readyz', { schema: { response: { 200: ReadinessResponseSchema } } }, async () => {
    const store = await app.storeStatus();
    return {
      status: store.status === 'up' ? ('ready' as const) : ('degraded' as const),
      services: app.catalog.services.size,
      knowledgeFiles: app.catalog.files.length,
      store: {
        status: store.status,
        dialect: store.dialect,
        auditQueued: store.auditQueue.depth,
        auditDropped: store.auditQueue.dropped,
      },
    };
  });
};
