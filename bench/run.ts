/**
 * npm run bench — the service against the physical floor, in one run on this machine.
 *
 * Starts the real service (production mode, JWT auth on with a test RS384 key (BENCH_JWT_ALG), pino at info to a
 * file) and a bare Fastify 5 server that only parses the same JSON body (the floor), then drives
 * both with autocannon: 10 connections for 10 s after a warm-up (and 1 connection where the issue
 * asks). Reports requests/s, p50/p99/max latency, server CPU ms per request (from /proc), and
 * service/floor ratios; writes bench/results/<date>.json and prints a table.
 *
 *   npm run bench                 all scenarios + the 1/2-worker scaling run
 *   npm run bench -- --quick      3 s measurements (smoke test of the harness, not a result)
 *
 * The service runs with the default limits (rate limit, load shedding), as shipped. Its ports are free
 * ports unless BENCH_SERVICE_PORT (the 1-worker service) and BENCH_SERVICE_PORT_2W (the 2-worker
 * scaling run) name them; the floor and the FHIR server always take free ports.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, createWriteStream } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { fillTemplate } from '../src/fhir/prefetch-template';
import { loadCatalog } from '../src/knowledge/knowledge-files-on-disk';
import { freePort } from '../tools/sandbox/processes';

const ROOT = resolve(__dirname, '..');
const DATA = join(__dirname, 'data');
const RESULTS = join(__dirname, 'results');
const QUICK = process.argv.includes('--quick');
/** --profile: the service runs under `node --cpu-prof` (profile in bench/profiles/); no scaling run. */
const PROFILE = process.argv.includes('--profile');
/** --only=small,heavy: a subset of the scenarios (for profiling one path). */
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const PROFILES = join(__dirname, 'profiles');
/** Extra node flags for the service (BENCH_NODE_FLAGS="--max-semi-space-size=64"), to try V8 settings. */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const DURATION = QUICK ? 3 : 10;
const WARMUP = QUICK ? 1 : 5;
const ISSUER = 'https://ehr.bench.example';
const CLK_TCK = 100;
/**
 * RS384: what Epic and most EHRs sign CDS Hooks JWTs with (the spec names ES384 and RS384). An ES384
 * token costs the service ~0.45 ms more CPU to verify on this machine; BENCH_JWT_ALG=ES384 shows it.
 */
const ALG = process.env.BENCH_JWT_ALG ?? 'RS384';

interface Scenario {
  id: string;
  title: string;
  serviceId: string;
  body: string;
  connections: number[];
}

const SCENARIOS: Scenario[] = [
  { id: 'small', title: 'patient-view, full prefetch (~20 KB, 26 resources)', serviceId: 'zoledronic-acid-eligibility', body: 'small.json', connections: [10, 1] },
  { id: 'heavy', title: 'patient-view, heavy chart (549 resources, ~0.55 MB)', serviceId: 'zoledronic-acid-eligibility', body: 'heavy.json', connections: [10, 1] },
  { id: 'order', title: 'order-select, zoledronic acid draft, full prefetch', serviceId: 'zoledronic-acid-order-select', body: 'order.json', connections: [10] },
  { id: 'no-prefetch', title: 'patient-view, no prefetch (local FHIR server)', serviceId: 'zoledronic-acid-eligibility', body: 'no-prefetch.json', connections: [10, 1] },
];

interface Started {
  child: ChildProcess;
  url: string;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGTERM');
});

function start(command: string, args: string[], env: Record<string, string>, logFile?: string): Promise<Started> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    child.on('exit', () => children.delete(child));
    const log = logFile ? createWriteStream(logFile) : undefined;
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.stdout!.on('data', (chunk: Buffer) => {
      log?.write(chunk);
      buffer += chunk.toString();
      for (const line of buffer.split('\n')) {
        try {
          const parsed = JSON.parse(line) as { listening?: string; msg?: string; publicBaseUrl?: string };
          if (parsed.listening) {
            clearTimeout(timer);
            resolvePromise({ child, url: parsed.listening });
          } else if (parsed.msg === 'zoledronic-cds ready') {
            clearTimeout(timer);
            resolvePromise({ child, url: env.PUBLIC_BASE_URL! });
          }
        } catch {
          // partial line
        }
      }
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${String(code)}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

/** CPU seconds used so far by a process and all its descendants (cluster workers). */
function treeCpuMs(pid: number): number {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // process gone
    }
  }
  let ticks = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.pop()!;
    ticks += stats.get(current)?.ticks ?? 0;
    for (const [child, s] of stats) if (s.ppid === current) queue.push(child);
  }
  return (ticks * 1000) / CLK_TCK;
}

function treeRssMb(pid: number): number[] {
  const out: number[] = [];
  let workerPids: number[] = [];
  try {
    workerPids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // no children file: a single process
  }
  for (const p of [pid, ...workerPids]) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      out.push(Math.round(kb / 1024));
    } catch {
      // gone
    }
  }
  return out;
}

interface Measured {
  target: 'service' | 'floor';
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  requests: number;
  non2xx: number;
  errors: number;
  cpuMsPerRequest: number;
}

class TokenPool {
  private readonly pools = new Map<string, string[]>();
  constructor(
    private readonly key: KeyLike,
    private readonly baseUrl: string,
  ) {}

  /** Pre-signs tokens (unique jti, aud = base URL + path) before a measured run, so signing costs the client nothing then. */
  async fill(path: string, count: number): Promise<void> {
    const pool = this.pools.get(path) ?? [];
    const now = Math.floor(Date.now() / 1000);
    while (pool.length < count) {
      pool.push(
        await new SignJWT({})
          .setProtectedHeader({ alg: ALG, typ: 'JWT', kid: 'bench-key' })
          .setIssuer(ISSUER)
          .setAudience(`${this.baseUrl}${path}`)
          .setIssuedAt(now)
          .setExpirationTime(now + 600)
          .setJti(randomUUID())
          .sign(this.key),
      );
    }
    this.pools.set(path, pool);
  }

  take(path: string): string {
    const token = this.pools.get(path)?.pop();
    if (!token) throw new Error(`token pool for ${path} ran dry: raise the estimate`);
    return token;
  }
}

async function drive(url: string, path: string, body: string, connections: number, seconds: number, token: () => string): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections,
    duration: seconds,
    pipelining: 1,
    requests: [
      {
        method: 'POST',
        path,
        body,
        setupRequest: (request) => ({ ...request, headers: { ...request.headers, 'content-type': 'application/json', authorization: `Bearer ${token()}` } }),
      },
    ],
  });
}

async function measure(target: Started & { name: 'service' | 'floor' }, scenario: Scenario, body: string, connections: number, tokens: TokenPool, estimateRps: number): Promise<Measured> {
  const path = `/cds-services/${scenario.serviceId}`;
  // The floor checks no token: it gets one reused token of the same size, so no signing is wasted.
  let token: () => string;
  if (target.name === 'floor') {
    await tokens.fill(path, 1);
    const reused = tokens.take(path);
    token = () => reused;
  } else {
    await tokens.fill(path, Math.ceil(estimateRps * WARMUP * 1.3) + 200);
    token = () => tokens.take(path);
  }
  const warm = await drive(target.url, path, body, connections, WARMUP, token);
  if (target.name === 'service') await tokens.fill(path, Math.ceil(Math.max(warm.requests.average, 1) * DURATION * 1.5) + 500);
  const cpuBefore = treeCpuMs(target.child.pid!);
  const result = await drive(target.url, path, body, connections, DURATION, token);
  const cpu = treeCpuMs(target.child.pid!) - cpuBefore;
  return {
    target: target.name,
    connections,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    cpuMsPerRequest: Math.round((cpu / Math.max(result.requests.total, 1)) * 100) / 100,
  };
}

/**
 * p50 of each fallback query the eligibility service makes (its prefetch templates, filled for the
 * bench patient), timed one at a time straight against the FHIR server: the fallback target is
 * "the slowest single query + 5 ms", since the service runs its queries in parallel.
 */
async function slowestFallbackQueryMs(fhirUrl: string): Promise<{ query: string; p50: number }> {
  const service = loadCatalog({ root: ROOT }).services.get('zoledronic-acid-eligibility')!;
  const request = { context: { patientId: 'pt-candidate', userId: 'Practitioner/onc-1' } };
  let slowest = { query: '', p50: 0 };
  for (const prefetch of service.prefetch) {
    const query = fillTemplate(prefetch.template, request as Parameters<typeof fillTemplate>[1]);
    if (!query) continue;
    const samples: number[] = [];
    for (let i = 0; i < 200; i += 1) {
      const started = process.hrtime.bigint();
      const response = await fetch(`${fhirUrl}/${query}`, { headers: { authorization: 'Bearer bench-fhir-access-token' } });
      await response.arrayBuffer();
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    samples.sort((a, b) => a - b);
    const p50 = samples[Math.floor(samples.length / 2)]!;
    if (p50 > slowest.p50) slowest = { query: prefetch.key, p50: Math.round(p50 * 100) / 100 };
  }
  return slowest;
}

/** The port a service under test listens on: the named variable, else a free port (two benches can run side by side). */
async function benchPort(variable: string): Promise<number> {
  const value = process.env[variable];
  if (value === undefined || value === '') return freePort();
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`${variable}=${value} is not a port number (1-65535)`);
  return port;
}

async function main(): Promise<void> {
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(RESULTS, { recursive: true });
  execFileSync('npx', ['tsx', 'bench/generate-data.ts'], { cwd: ROOT, stdio: 'inherit' });
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });

  const { privateKey, publicKey } = await generateKeyPair(ALG);
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-key', alg: ALG, use: 'sig' };
  const work = mkdtempSync(join(tmpdir(), 'bench-'));
  const issuers = join(work, 'issuers.json');
  writeFileSync(issuers, JSON.stringify([{ iss: ISSUER, jwks: { keys: [jwk] } }]));

  // One process (not npx → tsx → node), so SIGTERM reaches the server itself.
  const fhir = await start(process.execPath, ['--import', 'tsx', 'bench/fhir-server.ts'], {});
  const floor = { ...(await start('node', ['bench/floor-server.cjs'], { PORT: '0' })), name: 'floor' as const };

  const startService = async (workers: number, port: number) => {
    const url = `http://127.0.0.1:${port}`;
    const started = await start(
      'node',
      [...NODE_FLAGS, ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILES}`] : []), 'dist/server.js'],
      {
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_BASE_URL: url,
        CDS_AUTH: 'required',
        CDS_TRUSTED_ISSUERS: issuers,
        LOG_LEVEL: 'info',
        CDS_DB_URL: `sqlite:${join(work, `bench-${workers}.db`)}`,
        CDS_AUDIT_HMAC_KEY: 'bench-only-hmac-key-0123456789abcdef',
        CDS_WORKERS: String(workers),
        // As in production: the service may call only the FHIR server it is configured to trust.
        CDS_FHIR_SERVER_ALLOWLIST: fhir.url,
      },
      join(work, `service-${workers}w.log`),
    );
    return { ...started, name: 'service' as const };
  };
  const service = await startService(1, await benchPort('BENCH_SERVICE_PORT'));
  const tokens = new TokenPool(privateKey, service.url);

  const rows: (Measured & { scenario: string })[] = [];
  for (const scenario of SCENARIOS.filter((s) => !ONLY || ONLY.includes(s.id))) {
    let body = readFileSync(join(DATA, scenario.body), 'utf8');
    if (scenario.id === 'no-prefetch') body = body.replace('http://127.0.0.1:0', fhir.url);
    for (const connections of scenario.connections) {
      const floorResult = await measure(floor, scenario, body, connections, tokens, 4000);
      const serviceResult = await measure(service, scenario, body, connections, tokens, floorResult.rps);
      rows.push({ scenario: scenario.id, ...floorResult }, { scenario: scenario.id, ...serviceResult });
      process.stdout.write(`${scenario.id} c=${connections}: floor ${floorResult.rps} rps ${floorResult.cpuMsPerRequest} ms CPU, service ${serviceResult.rps} rps ${serviceResult.cpuMsPerRequest} ms CPU, p99 ${floorResult.p99}/${serviceResult.p99} ms, service non-2xx ${serviceResult.non2xx}\n`);
    }
  }
  const slowest = await slowestFallbackQueryMs(fhir.url);
  const serviceRss = treeRssMb(service.child.pid!);
  await stop(service.child);
  if (PROFILE || ONLY) {
    await Promise.all([stop(fhir.child), stop(floor.child)]);
    process.stdout.write(`${rows.map((r) => `${r.scenario} c=${r.connections} ${r.target}: ${r.rps} rps, p99 ${r.p99} ms, ${r.cpuMsPerRequest} ms CPU/req`).join('\n')}\n`);
    if (PROFILE) process.stdout.write(`profile written to ${PROFILES}; summarise it with: npx tsx bench/profile-summary.ts\n`);
    process.stdout.write(`service log: ${work}\n`);
    return;
  }

  // Scaling: the small scenario with 1 and 2 workers (node:cluster), 10 connections.
  const scaling: { workers: number; rps: number; p99: number; cpuMsPerRequest: number; rssMb: number[] }[] = [];
  for (const workers of [1, 2]) {
    const instance = await startService(workers, await benchPort(`BENCH_SERVICE_PORT_${workers}W`));
    const scaledTokens = new TokenPool(privateKey, instance.url);
    const body = readFileSync(join(DATA, 'small.json'), 'utf8');
    const result = await measure(instance, SCENARIOS[0]!, body, 10, scaledTokens, 4000);
    scaling.push({ workers, rps: result.rps, p99: result.p99, cpuMsPerRequest: result.cpuMsPerRequest, rssMb: treeRssMb(instance.child.pid!) });
    await stop(instance.child);
  }
  await Promise.all([stop(fhir.child), stop(floor.child)]);

  const pick = (scenario: string, target: string, connections: number) => rows.find((r) => r.scenario === scenario && r.target === target && r.connections === connections)!;
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  const targets = {
    smallThroughput: { service: pick('small', 'service', 10).rps, floor: pick('small', 'floor', 10).rps, ratio: ratio(pick('small', 'service', 10).rps, pick('small', 'floor', 10).rps), goal: '≥ 0.5' },
    heavyCpu: { service: pick('heavy', 'service', 10).cpuMsPerRequest, floor: pick('heavy', 'floor', 10).cpuMsPerRequest, ratio: ratio(pick('heavy', 'service', 10).cpuMsPerRequest, pick('heavy', 'floor', 10).cpuMsPerRequest), goal: '≤ 2' },
    heavyP99OneConnection: { service: pick('heavy', 'service', 1).p99, floor: pick('heavy', 'floor', 1).p99, ratio: ratio(pick('heavy', 'service', 1).p99, pick('heavy', 'floor', 1).p99), goal: '≤ 2' },
    fallbackOverhead: {
      addedP50Ms: Math.round((pick('no-prefetch', 'service', 1).p50 - pick('small', 'service', 1).p50) * 100) / 100,
      slowestQuery: slowest,
      limitMs: Math.round((slowest.p50 + 5) * 100) / 100,
      goal: 'added ≤ slowest single query + 5 ms',
    },
  };
  const met = {
    smallThroughput: targets.smallThroughput.ratio >= 0.5,
    heavyCpu: targets.heavyCpu.ratio <= 2,
    heavyP99OneConnection: targets.heavyP99OneConnection.ratio <= 2,
    fallbackOverhead: targets.fallbackOverhead.addedP50Ms <= targets.fallbackOverhead.limitMs,
  };
  const result = {
    date: new Date().toISOString(),
    quick: QUICK,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    method: { durationSeconds: DURATION, warmupSeconds: WARMUP, tool: 'autocannon', auth: `${ALG} JWT per request (pre-signed, unique jti)`, serviceLog: 'info, to file' },
    rows,
    serviceRssMb: serviceRss,
    scaling,
    targets,
    met,
  };
  const file = join(RESULTS, `${date}${QUICK ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

  const table = [
    '| scenario | conns | target | req/s | p50 ms | p99 ms | max ms | CPU ms/req | non-2xx |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.scenario} | ${r.connections} | ${r.target} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.max} | ${r.cpuMsPerRequest} | ${r.non2xx} |`),
  ];
  process.stdout.write(`\n${table.join('\n')}\n\nscaling (small, 10 conns): ${scaling.map((s) => `${s.workers} worker(s): ${s.rps} rps, p99 ${s.p99} ms, RSS ${s.rssMb.join('+')} MB`).join('; ')}\n`);
  process.stdout.write(`targets: ${JSON.stringify(targets, null, 1)}\nmet: ${JSON.stringify(met)}\nwrote ${file}\n`);
}

main().then(
  // Child stdout pipes would keep the event loop alive; the children are stopped by now.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
