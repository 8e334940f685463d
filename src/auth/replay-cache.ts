/**
 * JWT `jti` replay cache (CDS Hooks best practices: "keep a jti replay cache"). The JWT verifier asks
 * once per accepted token; `expiresAt` is the token's `exp` (seconds since the epoch, as in the JWT).
 */
export interface ReplayCache {
  /** True when this issuer's `jti` was already presented and has not expired: reject the token. */
  seen(jti: string, issuer: string, expiresAt: number): Promise<boolean>;
}
