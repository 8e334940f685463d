import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open-store';
import type { FeedbackRecord, HookCallRecord, IssuedCard, Store } from '../../src/store/store';
import { POSTGRES_URL, testSchema } from './postgres';

/** A database both adapters can be pointed at; `open()` gives another connection to the same data (a second replica). */
export interface TestDatabase {
  url: string;
  open(): Store;
  cleanup(): Promise<void>;
}

export interface AdapterUnderTest {
  name: string;
  create(label: string): TestDatabase;
}

export const SQLITE_ADAPTER: AdapterUnderTest = {
  name: 'SQLite',
  create() {
    const dir = mkdtempSync(join(tmpdir(), 'cds-store-'));
    const url = `sqlite:${join(dir, 'data', 'cds.db')}`;
    return { url, open: () => openStore(url), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

export const POSTGRES_ADAPTER: AdapterUnderTest = {
  name: 'PostgreSQL',
  create(label) {
    const schema = testSchema(label);
    return { url: schema.url, open: () => openStore(schema.url), cleanup: () => schema.drop() };
  },
};

/** SQLite always; PostgreSQL when CDS_TEST_POSTGRES_URL is set. */
export const ADAPTERS: AdapterUnderTest[] = POSTGRES_URL ? [SQLITE_ADAPTER, POSTGRES_ADAPTER] : [SQLITE_ADAPTER];

/** The client of rows written with CDS_AUTH=off: no verified issuer or tenant. */
export const ANONYMOUS = { issuer: '', tenant: '' };

export const T0 = Date.parse('2026-11-23T09:00:00Z'); // a Monday
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

let counter = 0;
const uuid = () => {
  counter += 1;
  return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
};

export function card(ruleId: string, overrides: Partial<IssuedCard> = {}): IssuedCard {
  return { cardUuid: uuid(), ruleId, indicator: 'info', suggestionUuids: [uuid()], ...overrides };
}

export function hookCall(cards: IssuedCard[], overrides: Partial<HookCallRecord> = {}): HookCallRecord {
  return {
    callId: uuid(),
    hookInstance: uuid(),
    serviceId: 'zoledronic-acid-eligibility',
    hook: 'patient-view',
    calledAt: T0,
    patientHash: 'a'.repeat(64),
    triggered: true,
    ruleIds: cards.map((c) => c.ruleId),
    cards,
    client: ANONYMOUS,
    ...overrides,
  };
}

export function accepted(issued: IssuedCard, at = T0 + HOUR, overrides: Partial<FeedbackRecord> = {}): FeedbackRecord {
  return {
    cardUuid: issued.cardUuid,
    serviceId: 'zoledronic-acid-eligibility',
    outcome: 'accepted',
    outcomeAt: at,
    receivedAt: at,
    acceptedSuggestionIds: issued.suggestionUuids,
    hasUserComment: false,
    client: ANONYMOUS,
    ...overrides,
  };
}

export function overridden(cardUuid: string, reason: { code?: string; display?: string } | undefined, at = T0 + HOUR, overrides: Partial<FeedbackRecord> = {}): FeedbackRecord {
  return {
    cardUuid,
    serviceId: 'zoledronic-acid-eligibility',
    outcome: 'overridden',
    outcomeAt: at,
    receivedAt: at,
    acceptedSuggestionIds: [],
    ...(reason ? { overrideReason: { system: 'https://zoledronic-cds.example.org/override', ...reason } } : {}),
    hasUserComment: false,
    client: ANONYMOUS,
    ...overrides,
  };
}
