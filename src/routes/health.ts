import type { FastifyPluginAsync } from 'fastify';

/** Liveness (the process answers) and readiness (knowledge loaded; the store joins later). */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => ({
    status: 'ready',
    services: app.catalog.services.size,
    knowledgeFiles: app.catalog.files.length,
  }));
};
