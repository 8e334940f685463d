import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { buildApp, type AppOptions } from '../../src/app';
import { loadConfig, type Config } from '../../src/config/env';
import type { Card } from '../../src/schemas/cds-response';
import { recordCards } from './card-invariants';
import { projectCatalog } from './catalog';
import { seededUuid, TEST_NOW } from './clock';

export interface TestApp {
  app: FastifyInstance;
  logs: Record<string, unknown>[];
  rawLogs: string[];
  close(): Promise<void>;
}

export function testConfig(env: Record<string, string> = {}): Config {
  // An in-memory store per app: tests never write ./data/cds.db and never share state by accident.
  // Load shedding off unless a test turns it on: on a shared CI host the jest process itself can lag,
  // and a shed 503 would make an unrelated test fail (test/routes/load-shedding.test.ts covers it).
  return loadConfig({ LOG_LEVEL: 'info', CDS_DB_URL: 'sqlite::memory:', CDS_SHED_EVENT_LOOP_DELAY_MS: '0', ...env });
}

/** The real app (real catalog, real HTTP stack) with a fixed clock, seeded uuids and captured logs. */
export async function buildTestApp(options: Partial<AppOptions> & { env?: Record<string, string> } = {}): Promise<TestApp> {
  const rawLogs: string[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, callback) {
      rawLogs.push(String(chunk));
      callback();
    },
  });
  const { env, ...rest } = options;
  const app = await buildApp({
    config: testConfig(env),
    catalog: projectCatalog(),
    now: () => TEST_NOW,
    uuid: seededUuid(),
    logStream,
    ...rest,
  });
  await app.ready();
  return {
    app,
    rawLogs,
    get logs() {
      return rawLogs.flatMap((line) => line.split('\n').filter(Boolean)).map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    close: () => app.close(),
  };
}

/** POSTs a hook call; any cards in the answer are recorded for the card-invariant check. */
export async function postHook(app: FastifyInstance, serviceId: string, body: unknown) {
  const response = await request(app.server).post(`/cds-services/${serviceId}`).set('content-type', 'application/json').send(body as object);
  if (response.status === 200 && Array.isArray(response.body?.cards)) recordCards(response.body.cards as Card[]);
  return response;
}

export function ruleIdsOf(cards: readonly Card[]): string[] {
  return cards.map((card) => card.source.topic?.code ?? '?');
}

export function cardFor(cards: readonly Card[], ruleId: string): Card | undefined {
  return cards.find((card) => card.source.topic?.code === ruleId);
}
