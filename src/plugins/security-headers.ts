import helmet from '@fastify/helmet';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Security headers for a JSON API (helmet). Nothing here is rendered by a browser, so the content
 * policy forbids everything; the resource policy is `cross-origin` because browser-based CDS clients
 * (the sandbox, EHR web views) call from other origins under CORS. HSTS is sent: in production the
 * service is reached over TLS (CDS Hooks requires HTTPS).
 */
const securityHeaders: FastifyPluginAsync = async (app) => {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
  });
};

export default fp(securityHeaders, { name: 'cds-security-headers', fastify: '5.x' });
