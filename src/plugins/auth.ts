import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { TokenRejectedError, type TokenVerifier } from '../auth/verify-token';

export interface AuthPluginOptions {
  verifier: TokenVerifier;
  /** PUBLIC_BASE_URL without a trailing slash: `aud` must be this + the request path. */
  publicBaseUrl: string;
  /** Requests another credential already admits instead of a JWT (the operator token on the feedback summary). */
  admitsWithoutJwt?: (request: FastifyRequest) => boolean;
}

const PROTECTED_PREFIX = '/cds-services';

function rawPath(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Everything under /cds-services is protected: discovery, every service, feedback, and any route
 * added there later. The matched route is checked as well as the raw path, so an encoded path that
 * the router decodes onto a CDS route cannot slip past the prefix test.
 */
function isProtected(request: FastifyRequest): boolean {
  const path = rawPath(request.url);
  const route = request.routeOptions.url;
  const underPrefix = (p: string) => p === PROTECTED_PREFIX || p.startsWith(`${PROTECTED_PREFIX}/`);
  return underPrefix(path) || (route !== undefined && underPrefix(route));
}

/**
 * CDS Hooks JWT check on every discovery, hook and feedback call (CDS_AUTH=required). CORS preflights
 * (OPTIONS) stay open: browsers send them without credentials. Health, readiness and metrics are not
 * under /cds-services and stay open. A refusal is a 401 whose body is the same whatever the reason;
 * the reason goes to the request's log line.
 */
const auth: FastifyPluginAsync<AuthPluginOptions> = async (app, options) => {
  if (!options.verifier) throw new TypeError('[auth] a token verifier is required');
  if (!/^https?:\/\/[^/]/.test(options.publicBaseUrl) || options.publicBaseUrl.endsWith('/')) {
    throw new TypeError('[auth] publicBaseUrl must be an absolute URL without a trailing slash');
  }
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'OPTIONS' || !isProtected(request)) return;
    if (options.admitsWithoutJwt?.(request)) return;
    const audience = options.publicBaseUrl + rawPath(request.url);
    try {
      const client = await options.verifier.verify(request.headers.authorization, audience);
      request.cdsClient = client;
      request.cds.issuer = client.issuer;
      if (client.tenant !== undefined) request.cds.tenant = client.tenant.slice(0, 200);
    } catch (error) {
      if (error instanceof TokenRejectedError) {
        request.cds.authFailure = error.reason;
        if (error.issuer !== undefined) request.cds.issuer = error.issuer;
        reply.header('www-authenticate', 'Bearer');
      }
      throw error;
    }
  });
};

export default fp(auth, { name: 'cds-auth', fastify: '5.x' });
