import type { Migration } from '../sql';

/**
 * SQLite schema, one entry per version. The SQL lives in TypeScript so the compiled dist/ carries it
 * (no asset copying in the build or the image). Times are epoch ms; flags are 0/1 integers.
 */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'feedback, audit of issued cards, jti replay cache',
    sql: `
CREATE TABLE hook_calls (
  call_id       TEXT PRIMARY KEY,
  hook_instance TEXT NOT NULL,
  service_id    TEXT NOT NULL,
  hook          TEXT NOT NULL,
  called_at     INTEGER NOT NULL,
  patient_hash  TEXT NOT NULL,
  triggered     INTEGER NOT NULL,
  rule_ids      TEXT NOT NULL,
  card_count    INTEGER NOT NULL
);
CREATE INDEX hook_calls_called_at ON hook_calls (called_at);
CREATE INDEX hook_calls_hook_instance ON hook_calls (hook_instance);

CREATE TABLE issued_cards (
  card_uuid        TEXT PRIMARY KEY,
  call_id          TEXT NOT NULL REFERENCES hook_calls (call_id) ON DELETE CASCADE,
  service_id       TEXT NOT NULL,
  rule_id          TEXT NOT NULL,
  indicator        TEXT NOT NULL,
  suggestion_uuids TEXT NOT NULL,
  issued_at        INTEGER NOT NULL
);
CREATE INDEX issued_cards_service_issued ON issued_cards (service_id, issued_at);
CREATE INDEX issued_cards_call ON issued_cards (call_id);

CREATE TABLE feedback (
  feedback_id          INTEGER PRIMARY KEY AUTOINCREMENT,
  card_uuid            TEXT NOT NULL,
  service_id           TEXT NOT NULL,
  outcome              TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
  outcome_at           INTEGER NOT NULL,
  received_at          INTEGER NOT NULL,
  accepted_suggestions TEXT,
  override_system      TEXT,
  override_code        TEXT,
  override_display     TEXT,
  has_user_comment     INTEGER NOT NULL,
  user_comment         TEXT,
  card_known           INTEGER NOT NULL,
  UNIQUE (card_uuid, outcome, outcome_at)
);
CREATE INDEX feedback_received_at ON feedback (received_at);

CREATE TABLE jwt_replay (
  issuer     TEXT NOT NULL,
  jti        TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (issuer, jti)
);
CREATE INDEX jwt_replay_expires_at ON jwt_replay (expires_at);
`,
  },
  {
    version: 2,
    name: 'calling client (verified issuer and tenant) on audit and feedback rows; feedback size for quotas',
    // '' = no verified client (CDS_AUTH=off, or rows written before this version).
    sql: `
ALTER TABLE hook_calls ADD COLUMN client_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE hook_calls ADD COLUMN client_tenant TEXT NOT NULL DEFAULT '';
ALTER TABLE issued_cards ADD COLUMN client_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE issued_cards ADD COLUMN client_tenant TEXT NOT NULL DEFAULT '';
ALTER TABLE feedback ADD COLUMN client_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE feedback ADD COLUMN client_tenant TEXT NOT NULL DEFAULT '';
ALTER TABLE feedback ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;
CREATE INDEX feedback_client ON feedback (client_issuer, client_tenant, received_at);
CREATE INDEX issued_cards_client ON issued_cards (client_issuer, client_tenant, issued_at);
`,
  },
];
