/**
 * The feedback and audit store: one repository interface, two adapters (SQLite embedded, PostgreSQL
 * for several replicas). Everything the service keeps between requests goes through it, so replicas
 * share state only through the database.
 *
 * Privacy: nothing here holds a patient identifier in clear, a name, a resource or a token. Patients
 * appear only as a keyed hash (HMAC-SHA256, see src/audit/patient-hash.ts); cards as the uuids we
 * generated and the rule id that produced them.
 *
 * Times are epoch milliseconds (UTC) everywhere: portable between both databases and exact.
 */

/**
 * The CDS client a row belongs to: the verified JWT issuer and tenant ('' when auth is off or the
 * token named no tenant). Feedback is accepted and summarised only within one client.
 */
export interface ClientRef {
  issuer: string;
  tenant: string;
}

/** One card as it was issued: the link between feedback (by card uuid) and the rule. */
export interface IssuedCard {
  cardUuid: string;
  ruleId: string;
  indicator: 'info' | 'warning' | 'critical';
  suggestionUuids: string[];
}

/** The audit record of one answered hook call (also calls that produced no card). */
export interface HookCallRecord {
  /** Our own id for the call: hookInstance comes from the client and a retry may repeat it. */
  callId: string;
  hookInstance: string;
  serviceId: string;
  hook: string;
  calledAt: number;
  /** HMAC-SHA256 of the patient id under the configured key (hex). */
  patientHash: string;
  /** False for order hooks whose drafts did not include the trigger drug (no rule was evaluated). */
  triggered: boolean;
  /** Rules whose condition was true (in the order cards were built). */
  ruleIds: string[];
  cards: IssuedCard[];
  client: ClientRef;
}

export type FeedbackOutcome = 'accepted' | 'overridden';

/** One CDS Hooks feedback item, normalised (card uuid lower-case, timestamp as epoch ms). */
export interface FeedbackRecord {
  cardUuid: string;
  /** The service the feedback was posted to (the issued card's own service wins in reports). */
  serviceId: string;
  outcome: FeedbackOutcome;
  outcomeAt: number;
  receivedAt: number;
  acceptedSuggestionIds: string[];
  overrideReason?: { system?: string; code?: string; display?: string };
  hasUserComment: boolean;
  /** Only when CDS_FEEDBACK_COMMENTS=store: free text may name the patient (see README). */
  userComment?: string;
  /** Who posted it: feedback counts only for cards issued to this same client. */
  client: ClientRef;
}

/** A card as issued to one client, looked up when feedback about it arrives. */
export interface IssuedCardRef {
  cardUuid: string;
  serviceId: string;
  ruleId: string;
  suggestionUuids: string[];
}

/** Refused: storing the batch would take the client over its feedback storage quota. */
export class FeedbackQuotaExceededError extends Error {
  constructor() {
    super('feedback storage quota exceeded');
    this.name = 'FeedbackQuotaExceededError';
  }
}

export type FeedbackItemStatus = 'stored' | 'duplicate' | 'unknown_card';

export interface FeedbackWriteResult {
  /** Items newly stored. */
  stored: number;
  /** Items already stored (same card, outcome and outcome time): a resend, ignored. */
  duplicates: number;
  /** Items about a card never issued to this client: not stored (counted only). */
  unknownCards: number;
  /** Per item, in request order (metrics). */
  statuses: FeedbackItemStatus[];
}

export type SummaryPeriod = 'day' | 'week' | 'month';

export interface SummaryQuery {
  /** Restrict to one service; all services when absent. */
  serviceId?: string;
  /** Cards issued in [from, to) (epoch ms). Feedback is counted with the card it answers. */
  from: number;
  to: number;
  period: SummaryPeriod;
  /** How many override reasons to list per row. */
  topReasons?: number;
  /** Only this client's cards and feedback; everything when absent (the operator's admin token). */
  client?: ClientRef;
}

export interface OverrideReasonCount {
  system?: string;
  code?: string;
  display?: string;
  /** Distinct cards overridden with this reason ("no reason given" has no system/code). */
  cards: number;
}

export interface SummaryRow {
  serviceId: string;
  ruleId: string;
  /** Period start: YYYY-MM-DD for day and week (weeks start on Monday, UTC), YYYY-MM for month. */
  period: string;
  /** Cards issued. */
  shown: number;
  /** Distinct cards with at least one `accepted` feedback. */
  accepted: number;
  /** Distinct cards with at least one `overridden` feedback. */
  overridden: number;
  topOverrideReasons: OverrideReasonCount[];
}

export interface FeedbackSummary {
  from: number;
  to: number;
  period: SummaryPeriod;
  rows: SummaryRow[];
  /** Feedback received in [from, to) for card uuids never issued by this service (flagged). */
  unknownCardFeedback: number;
}

export interface PurgeResult {
  hookCalls: number;
  issuedCards: number;
  feedback: number;
  replayEntries: number;
}

export interface MigrationResult {
  /** Versions applied by this call (empty when the database was already current). */
  applied: number[];
  current: number;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Applies pending migrations (idempotent, safe to run from several replicas at once). */
  migrate(): Promise<MigrationResult>;
  /** Cheap round trip for readiness. */
  ping(): Promise<void>;
  /** Writes hook-call audit records and their cards; already-stored records are skipped (retries). */
  recordHookCalls(records: readonly HookCallRecord[]): Promise<void>;
  /**
   * Stores feedback idempotently, in one transaction, only for cards issued to the item's client
   * (others are counted as unknown, not stored). Throws FeedbackQuotaExceededError, storing nothing,
   * when the client's stored feedback would exceed `quotaBytes`.
   */
  recordFeedback(items: readonly FeedbackRecord[], options?: { quotaBytes?: number }): Promise<FeedbackWriteResult>;
  /** The cards among `cardUuids` that were issued to `client`. */
  issuedCards(cardUuids: readonly string[], client: ClientRef): Promise<IssuedCardRef[]>;
  feedbackSummary(query: SummaryQuery): Promise<FeedbackSummary>;
  /**
   * Claims a JWT id for an issuer until `expiresAt` (epoch ms). True when this call claimed it; false
   * when an unexpired claim exists (a replay). Atomic across connections and replicas.
   */
  claimJti(issuer: string, jti: string, expiresAt: number, now: number): Promise<boolean>;
  /**
   * Deletes audit rows and feedback older than `cutoff` (epoch ms), feedback older than
   * `feedbackCutoff` too (the later cutoff wins for feedback), and expired jti claims.
   */
  purge(cutoff: number | undefined, now: number, feedbackCutoff?: number): Promise<PurgeResult>;
  close(): Promise<void>;
}
