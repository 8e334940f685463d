import type { FastifyPluginAsync } from 'fastify';
import type { Catalog } from '../knowledge/types';
import { DiscoveryResponseSchema, type DiscoveryResponse } from '../schemas/cds-response';

/** Discovery document from hooks/: spec fields only (the private `config` is never served). */
function discoveryDocument(catalog: Catalog): DiscoveryResponse {
  const services: DiscoveryResponse['services'] = [];
  for (const service of catalog.services.values()) {
    const { id, title, description, prefetch, usageRequirements } = service.definition;
    for (const hook of service.hooks) {
      services.push({
        hook,
        id,
        title,
        description,
        ...(Object.keys(prefetch).length > 0 ? { prefetch } : {}),
        ...(usageRequirements ? { usageRequirements } : {}),
      });
    }
  }
  return { services };
}

export const discoveryRoutes: FastifyPluginAsync = async (app) => {
  const document = discoveryDocument(app.catalog);
  const body = JSON.stringify(document);
  // The document never changes: serialized once here and sent as it is (a string with a JSON type is
  // not serialized again); the schema states what it holds.
  app.get('/cds-services', { schema: { response: { 200: DiscoveryResponseSchema } } }, async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(body),
  );
};
