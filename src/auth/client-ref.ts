import type { ClientRef } from '../store/store';
import type { VerifiedClient } from './verify-token';

/** The store's key for a caller: the verified issuer and tenant, '' for each when no JWT was verified (CDS_AUTH=off). */
export function clientOf(verified: VerifiedClient | null | undefined): ClientRef {
  return { issuer: verified?.issuer ?? '', tenant: verified?.tenant ?? '' };
}
