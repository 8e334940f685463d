import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/env';

declare module 'fastify' {
  interface FastifyInstance {
    /** The validated environment (src/config/env.ts); every other plugin reads its settings here. */
    config: Config;
  }
}

/** Decorates `config`: registered first, since almost every plugin depends on it. */
const configPlugin: FastifyPluginAsync<{ config: Config }> = async (app, { config }) => {
  if (!config) throw new TypeError('[config] a configuration is required');
  app.decorate('config', config);
};

export default fp(configPlugin, { name: 'config', fastify: '5.x' });
