import type { Config } from '../config/env';
import { InMemoryReplayCache, type ReplayCache } from './replay-cache';
import { loadTrustedIssuers } from './trusted-issuers';
import { TokenVerifier } from './verify-token';

/**
 * The verifier the process runs with: issuers from CDS_TRUSTED_ISSUERS, limits from the environment,
 * and the in-memory replay cache unless a shared one is given (several replicas).
 */
export function tokenVerifierFromConfig(
  config: Config,
  edges: { now: () => number; replayCache?: ReplayCache; fetch?: typeof fetch },
): TokenVerifier {
  if (!config.trustedIssuersFile) throw new TypeError('[auth] CDS_AUTH=required needs CDS_TRUSTED_ISSUERS');
  return new TokenVerifier({
    issuers: loadTrustedIssuers(config.trustedIssuersFile, { production: config.production }),
    replayCache: edges.replayCache ?? new InMemoryReplayCache({ now: edges.now }),
    now: edges.now,
    clockSkewSeconds: config.jwtClockSkewSeconds,
    maxAgeSeconds: config.jwtMaxAgeSeconds,
    jwks: {
      timeoutMs: config.jwksTimeoutMs,
      cooldownMs: config.jwksCooldownMs,
      ...(edges.fetch ? { fetch: edges.fetch } : {}),
    },
  });
}
