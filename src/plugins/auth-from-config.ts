import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { adminTokenMatches } from '../auth/admin-token';
import { tokenVerifierFromConfig } from '../auth/from-config';
import type { TokenVerifier } from '../auth/verify-token';
import { FEEDBACK_SUMMARY_ROUTE } from '../routes/feedback';
import authPlugin from './auth';

export interface AuthFromConfigOptions {
  now: () => number;
  /** Used instead of the verifier built from CDS_TRUSTED_ISSUERS (tests). */
  verifier?: TokenVerifier;
}

/**
 * CDS_AUTH=required: builds the JWT verifier from the configuration (CDS_TRUSTED_ISSUERS) with the
 * store's replay cache, so a jti replayed to another replica is refused, and registers the auth
 * check. A bad issuer file throws here, so start-up stops before anything listens.
 */
const authFromConfig: FastifyPluginAsync<AuthFromConfigOptions> = async (app, options) => {
  const { config } = app;
  if (config.auth !== 'required') return;
  const verifier = options.verifier ?? tokenVerifierFromConfig(config, { now: options.now, replayCache: app.replayCache });
  // Operators without a CDS Hooks JWT may read the feedback summary with CDS_ADMIN_TOKEN.
  const adminToken = config.adminToken;
  const admitsWithoutJwt = adminToken
    ? (request: FastifyRequest) => request.routeOptions.url === FEEDBACK_SUMMARY_ROUTE && adminTokenMatches(request.headers.authorization, adminToken)
    : undefined;
  await app.register(authPlugin, { verifier, publicBaseUrl: config.publicBaseUrl, ...(admitsWithoutJwt ? { admitsWithoutJwt } : {}) });
};

export default fp(authFromConfig, { name: 'auth-from-config', fastify: '5.x', dependencies: ['config', 'replay-cache'] });
