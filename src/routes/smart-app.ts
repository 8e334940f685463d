import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** Where `npm run build` writes the app (vite, smart-app/vite.config.ts); the same from src/ and dist/. */
export const DEFAULT_SMART_APP_DIR = resolve(__dirname, '..', '..', 'dist', 'smart-app');
export const SMART_APP_PREFIX = '/smart-app/';

/**
 * The scopes the app asks for: read-only patient data, the user's identity, and the launch context
 * (`launch` from an EHR launch, `launch/patient` to pick a patient in a standalone launch). SMART v1
 * names, which SMART v2 servers also accept (v2: `patient/*.rs`); see README.
 */
export const SMART_APP_SCOPES = {
  ehrLaunch: 'launch openid fhirUser patient/*.read',
  standaloneLaunch: 'launch/patient openid fhirUser patient/*.read',
} as const;

export interface SmartAppOptions {
  /** The built app (index.html, launch.html, assets/); when it holds no launch.html the pages are not served. */
  dir: string;
  clientId: string;
}

/** Is the app built in `dir`? Cards link to it only then. */
export function smartAppBuilt(dir: string): boolean {
  return existsSync(join(dir, 'launch.html')) && existsSync(join(dir, 'index.html'));
}

/**
 * The app's pages run in the browser, unlike the JSON API, so they get their own policy: scripts and
 * styles from this origin only (the bundle needs no eval: the knowledge is compiled prevalidated),
 * inline style attributes (the chart library sets them), FHIR calls to any server (which FHIR server
 * is known only at launch), and framing by any EHR (SMART apps run in EHR iframes).
 */
const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  'connect-src *',
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
  'frame-ancestors *',
].join('; ');

/**
 * GET /smart-app/* — the SMART on FHIR app (launch.html, index.html, hashed assets), plus
 * GET /smart-app/knowledge.json (the knowledge files the service loaded: rules and mappings, no
 * patient data) and GET /smart-app/config.json (client id and scopes). Patient data never passes
 * through here: the app reads it from the FHIR server with the user's token.
 */
export const smartAppRoutes: FastifyPluginAsync<SmartAppOptions> = async (app, options) => {
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', APP_CSP);
    reply.removeHeader('x-frame-options');
    return payload;
  });

  const knowledge = JSON.stringify({ files: app.catalog.texts });
  app.get('/smart-app/knowledge.json', async (_request, reply) => {
    reply.header('cache-control', 'no-cache').type('application/json; charset=utf-8');
    return knowledge;
  });
  const clientConfig = { clientId: options.clientId, scopes: SMART_APP_SCOPES };
  app.get('/smart-app/config.json', async (_request, reply) => {
    reply.header('cache-control', 'no-cache');
    return clientConfig;
  });

  if (!smartAppBuilt(options.dir)) {
    app.log.warn({ dir: options.dir }, 'SMART app not built (npm run build): /smart-app/ pages are not served and cards carry no app link');
    return;
  }
  app.get('/smart-app', async (_request, reply) => reply.redirect(SMART_APP_PREFIX, 301));
  await app.register(fastifyStatic, {
    root: options.dir,
    prefix: SMART_APP_PREFIX,
    index: 'index.html',
    decorateReply: false,
    cacheControl: false,
    // Hashed asset names never change content: cache them; pages are revalidated.
    setHeaders: (res, path) => {
      res.setHeader('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
};
