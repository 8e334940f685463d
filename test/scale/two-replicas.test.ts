import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../support/catalog';
import { chartOf } from '../support/fixtures';
import { TEST_NOW } from '../support/clock';
import { shiftDates } from '../../tools/demo-fhir/demo-dates';
import { describePostgres, testSchema, type TestSchema } from '../support/postgres';
import { eventually } from '../support/wait';
import { ELIGIBILITY, patientViewRequest, prefetchFor } from '../support/requests';

/**
 * The scale-out claim, with real processes: two service processes (as two replicas behind a load
 * balancer) on one PostgreSQL database share audit and feedback, and JWT ids claimed by one process
 * are replays for another.
 */
const TSX = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
const run = promisify(execFile);
// The replicas run on the real clock: move the chart's dates from the tests' fixed "now" to today, so
// its clinical story (e.g. the adjuvant start window) stays what the fixture says.
const chart = shiftDates(chartOf('candidate-postmenopausal'), Math.round((Date.now() - TEST_NOW) / 86_400_000));

interface Replica {
  process: ChildProcess;
  url: string;
  output: string[];
}

function startReplica(dbUrl: string, extraEnv: Record<string, string> = {}): Promise<Replica> {
  const child = spawn(TSX, [join(PROJECT_ROOT, 'src', 'server.ts')], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      HOST: '127.0.0.1',
      CDS_DB_URL: dbUrl,
      CDS_AUDIT_HMAC_KEY: 'replica-test-key-0123456789abcdef0123456789',
      CDS_AUTH: 'off',
      LOG_LEVEL: 'info',
      // Sharing is tested here, not overload: a shed 503 on a busy CI host would be noise.
      CDS_SHED_EVENT_LOOP_DELAY_MS: '0',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  return new Promise<Replica>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output.push(String(chunk));
      const port = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output.join(''))?.[1];
      if (port) resolve({ process: child, url: `http://127.0.0.1:${port}`, output });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => output.push(String(chunk)));
    child.once('exit', (code) => reject(new Error(`replica exited with ${code} before listening:\n${output.join('')}`)));
  });
}

async function stopReplica(replica: Replica | undefined): Promise<void> {
  if (!replica || replica.process.exitCode !== null) return;
  const exited = new Promise((resolve) => replica.process.once('exit', resolve));
  replica.process.kill('SIGTERM');
  await exited;
}

async function call(base: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** Waits (bounded) until a replica, another process that announces nothing, has written its queued audit records. */
async function auditWritten(base: string): Promise<void> {
  const ready = await eventually(
    () => call(base, '/readyz'),
    (answer) => answer.body.status === 'ready' && answer.body.store.auditQueued === 0,
    { everyMs: 50 },
  );
  if (ready.body.status !== 'ready' || ready.body.store.auditQueued !== 0) throw new Error('audit queue did not drain');
}

describePostgres('two service processes on one PostgreSQL database', () => {
  let schema: TestSchema;
  let a: Replica | undefined;
  let b: Replica | undefined;

  beforeAll(async () => {
    schema = testSchema('replicas');
    // Started together: both migrate the empty schema at once (one applies, one waits and finds it done).
    [a, b] = await Promise.all([startReplica(schema.url), startReplica(schema.url)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([stopReplica(a), stopReplica(b)]);
    await schema.drop();
  });

  test('feedback posted to either replica is reported by both, under the rule of the card', async () => {
    const hook = (patientId: string) => patientViewRequest({ patientId, prefetch: prefetchFor(ELIGIBILITY, chart, patientId) });
    const fromA = await call(a!.url, `/cds-services/${ELIGIBILITY}`, hook('pt-candidate'));
    const fromB = await call(b!.url, `/cds-services/${ELIGIBILITY}`, hook('pt-candidate'));
    expect([fromA.status, fromB.status]).toEqual([200, 200]);
    await Promise.all([auditWritten(a!.url), auditWritten(b!.url)]);

    const cardA = fromA.body.cards.find((c: any) => c.source.topic.code === 'PV-RECOMMEND');
    const cardB = fromB.body.cards.find((c: any) => c.source.topic.code === 'PV-RECOMMEND');
    const now = new Date().toISOString();
    // Each card's feedback goes to the *other* replica than the one that issued it.
    // The issuing replica writes the card's audit record in its next batch; feedback for a card not
    // yet recorded is refused as unknown (nothing stored), so a client may simply send it again.
    const postUntilKnown = (base: string, body: unknown) =>
      eventually(
        () => call(base, `/cds-services/${ELIGIBILITY}/feedback`, body),
        (response) => response.body.unknownCards === 0,
        { everyMs: 50 },
      );
    const toB = await postUntilKnown(b!.url, {
      feedback: [{ card: cardA.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: cardA.suggestions[0].uuid }], outcomeTimestamp: now }],
    });
    const toA = await postUntilKnown(a!.url, {
      // PV-RECOMMEND offers no override reasons, so none is given (a reason must be one the card offered).
      feedback: [{ card: cardB.uuid, outcome: 'overridden', outcomeTimestamp: now }],
    });
    expect(toB.body).toEqual({ received: 1, stored: 1, duplicates: 0, unknownCards: 0 });
    expect(toA.body).toEqual({ received: 1, stored: 1, duplicates: 0, unknownCards: 0 });
    // The same feedback resent to the other replica is recognised as a duplicate.
    expect((await call(a!.url, `/cds-services/${ELIGIBILITY}/feedback`, { feedback: [{ card: cardA.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: cardA.suggestions[0].uuid }], outcomeTimestamp: now }] })).body).toMatchObject({ duplicates: 1 });

    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const window = `from=${day(-1)}&to=${day(2)}&period=month`;
    const summaries = await Promise.all([a!, b!].map((r) => call(r.url, `/cds-services/${ELIGIBILITY}/feedback/summary?${window}`)));
    for (const summary of summaries) {
      expect(summary.status).toBe(200);
      const recommend = summary.body.rows.find((r: any) => r.ruleId === 'PV-RECOMMEND');
      expect(recommend).toMatchObject({ shown: 2, accepted: 1, overridden: 1, topOverrideReasons: [{ cards: 1 }] });
    }
    expect(summaries[0]!.body).toEqual(summaries[1]!.body);
  });

  test('a JWT id presented in one process is a replay in another', async () => {
    const exp = String(Date.now() + 300_000); // epoch ms (ReplayCache contract)
    const claim = async () => JSON.parse((await run(TSX, [join(__dirname, 'claim-jti.ts'), schema.url, 'https://ehr.example.org', 'jti-42', exp], { cwd: PROJECT_ROOT })).stdout);
    expect(await claim()).toEqual({ seen: false });
    expect(await claim()).toEqual({ seen: true });
  });
});

describePostgres('two authenticating replicas on one PostgreSQL database (HTTP, real JWTs)', () => {
  const ISSUER = 'https://ehr.replica-test.example';
  // Behind a load balancer both replicas answer at the same public URL, so tokens carry one audience.
  const PUBLIC = 'https://cds.replica-test.example';
  let schema: TestSchema;
  let dir: string;
  let key: KeyLike;
  let a: Replica | undefined;
  let b: Replica | undefined;

  beforeAll(async () => {
    schema = testSchema('replicas_auth');
    dir = mkdtempSync(join(tmpdir(), 'replicas-'));
    const pair = await generateKeyPair('ES384');
    key = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'replica-key', alg: 'ES384', use: 'sig' };
    writeFileSync(join(dir, 'issuers.json'), JSON.stringify([{ iss: ISSUER, jwks: { keys: [jwk] } }]));
    const env = { CDS_AUTH: 'required', CDS_TRUSTED_ISSUERS: join(dir, 'issuers.json'), PUBLIC_BASE_URL: PUBLIC };
    [a, b] = await Promise.all([startReplica(schema.url, env), startReplica(schema.url, env)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([stopReplica(a), stopReplica(b)]);
    await schema.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const token = (jti: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES384', typ: 'JWT', kid: 'replica-key' })
      .setIssuer(ISSUER)
      .setAudience(`${PUBLIC}/cds-services`)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(jti)
      .sign(key);
  const discovery = async (base: string, bearer: string) => (await fetch(`${base}/cds-services`, { headers: { authorization: `Bearer ${bearer}` } })).status;

  test('a token accepted by one replica is refused as a replay by the other; a fresh one passes', async () => {
    const once = await token(randomUUID());
    expect(await discovery(a!.url, once)).toBe(200);
    expect(await discovery(b!.url, once)).toBe(401);
    expect(await discovery(a!.url, once)).toBe(401);
    expect(await discovery(b!.url, await token(randomUUID()))).toBe(200);
    expect(b!.output.join('')).toContain('"authFailure":"replayed"');
  });
});
