import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

/**
 * Starts the demo FHIR server and the CDS service as real child processes (TypeScript run by tsx's
 * loader, no build needed) and waits until each says it is ready. Used by `npm run sandbox` and the
 * end-to-end tests.
 */
export const PROJECT_ROOT = resolve(__dirname, '..', '..');

export interface ChildHandle {
  url: string;
  pid: number;
  /** Everything the process wrote, line by line (stdout and stderr). */
  output: string[];
  /** Calls `listener` with every line written from now on. */
  onLine(listener: (line: string) => void): void;
  /** Resident memory in MB (Linux /proc), undefined elsewhere or after exit. */
  rssMb(): number | undefined;
  /** Resolves with the exit code (or signal) when the process ends, for whatever reason. */
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

export interface DemoFhirReady {
  event: 'ready';
  url: string;
  shiftDays: number;
  patients: number;
  resources: number;
  startupMs: number;
  rssMb: number;
}

/** A free TCP port on the host (there is a small race until the child binds it; fine for tests). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

export function rssMbOf(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** Children still running: killed if this process exits first, so no server outlives its launcher. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Stops every child started by this module that is still running (e.g. on Ctrl-C before ready). */
export function killAllChildren(): void {
  for (const child of running) child.kill('SIGTERM');
}

function startChild<T>(
  name: string,
  args: string[],
  env: Record<string, string>,
  isReady: (line: string) => T | undefined,
  timeoutMs: number,
  poll?: () => Promise<T | undefined>,
): Promise<{ child: ChildProcess; output: string[]; ready: T; listeners: Set<(line: string) => void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const output: string[] = [];
  const listeners = new Set<(line: string) => void>();
  return new Promise((resolveReady, reject) => {
    let settled = false;
    const succeed = (ready: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolveReady({ child, output, ready, listeners });
    };
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`${name} did not become ready within ${timeoutMs} ms:\n${output.slice(-20).join('\n')}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        output.push(line);
        for (const listener of listeners) listener(line);
        const ready = settled ? undefined : isReady(line);
        if (ready !== undefined) succeed(ready);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => fail(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${output.slice(-20).join('\n')}`)));
    child.once('error', (error) => fail(error));
    if (poll) {
      const tick = () => {
        if (settled) return;
        poll().then(
          (ready) => (ready !== undefined ? succeed(ready) : setTimeout(tick, 100)),
          () => setTimeout(tick, 100),
        );
      };
      setTimeout(tick, 100);
    }
  });
}

function handle(url: string, child: ChildProcess, output: string[], listeners: Set<(line: string) => void>): ChildHandle {
  return {
    url,
    pid: child.pid!,
    output,
    onLine: (listener) => listeners.add(listener),
    rssMb: () => (child.exitCode === null ? rssMbOf(child.pid!) : undefined),
    exited: new Promise((resolveExit) => {
      if (child.exitCode !== null || child.signalCode !== null) resolveExit(child.exitCode ?? child.signalCode!);
      else child.once('exit', (code, signal) => resolveExit(code ?? signal ?? 'unknown'));
    }),
    stop: () =>
      new Promise<void>((resolveStop) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolveStop();
        });
        child.kill('SIGTERM');
      }),
  };
}

function parseJsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export async function startDemoFhirProcess(options: { port: number; host?: string; asOf?: string; verbose?: boolean; timeoutMs?: number }): Promise<ChildHandle & { ready: DemoFhirReady }> {
  const args = ['tools/demo-fhir/main.ts', '--port', String(options.port), '--host', options.host ?? '127.0.0.1'];
  if (options.asOf) args.push('--as-of', options.asOf);
  if (options.verbose) args.push('--verbose');
  const { child, output, ready, listeners } = await startChild(
    'demo FHIR server',
    args,
    {},
    (line) => {
      const json = parseJsonLine(line);
      return json?.event === 'ready' ? (json as unknown as DemoFhirReady) : undefined;
    },
    options.timeoutMs ?? 60_000,
  );
  return { ...handle(ready.url, child, output, listeners), ready };
}

/**
 * The CDS service exactly as `npm start` runs it (src/server.ts), configured by environment only.
 * Ready when it logs "zoledronic-cds ready" or /healthz answers.
 */
export async function startCdsServiceProcess(options: { port: number; host?: string; publicBaseUrl?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<ChildHandle> {
  const host = options.host ?? '127.0.0.1';
  const publicBaseUrl = options.publicBaseUrl ?? `http://${host}:${options.port}`;
  const healthz = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${options.port}/healthz`;
  const { child, output, listeners } = await startChild(
    'CDS service',
    ['src/server.ts'],
    { PORT: String(options.port), HOST: host, PUBLIC_BASE_URL: publicBaseUrl, LOG_LEVEL: 'info', ...options.env },
    (line) => (parseJsonLine(line)?.msg === 'zoledronic-cds ready' ? true : undefined),
    options.timeoutMs ?? 60_000,
    // Whatever LOG_LEVEL says, /healthz answering means it listens.
    async () => ((await fetch(healthz, { signal: AbortSignal.timeout(1000) })).ok ? true : undefined),
  );
  return handle(publicBaseUrl, child, output, listeners);
}
