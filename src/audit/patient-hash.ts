import { createHmac, randomBytes } from 'node:crypto';

/**
 * Keyed hash of a patient id for the audit trail: HMAC-SHA256 under CDS_AUDIT_HMAC_KEY. The same
 * patient gives the same hash (an auditor holding the key can check "was this patient shown card X?"
 * by hashing the id), while the table alone reveals no identifier and cannot be reversed by hashing
 * every plausible MRN without the key.
 */
export interface PatientHasher {
  hash(patientId: string): string;
  /** False when the key was generated for this process only (development). */
  readonly configured: boolean;
}

export function patientHasher(key: string | undefined): PatientHasher {
  const secret = key ?? randomBytes(32).toString('hex');
  return {
    configured: key !== undefined,
    hash: (patientId) => createHmac('sha256', secret).update(patientId, 'utf8').digest('hex'),
  };
}
