import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Catalog } from '../knowledge/types';

declare module 'fastify' {
  interface FastifyInstance {
    /** The compiled knowledge (services, rules, code lists), loaded once before the app is built. */
    catalog: Catalog;
  }
}

/** Decorates `catalog` for discovery, hook calls, feedback and readiness. */
const catalogPlugin: FastifyPluginAsync<{ catalog: Catalog }> = async (app, { catalog }) => {
  if (!catalog?.services) throw new TypeError('[catalog] a compiled catalog is required');
  app.decorate('catalog', catalog);
};

export default fp(catalogPlugin, { name: 'catalog', fastify: '5.x' });
