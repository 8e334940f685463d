import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { loggerOptions } from './logging';

/**
 * CDS_WORKERS > 1: this process becomes a supervisor that forks that many HTTP workers sharing the
 * port (node:cluster hands connections out round-robin). It serves nothing itself. Workers share
 * state only through the store (audit, feedback, JWT jti replay cache); the rate limiter and the
 * JWKS cache are per worker, as they are per replica.
 *
 * A worker that dies after it was listening is replaced. One that dies before it ever listened
 * (bad knowledge files, unreachable database) stops the whole service: restarting it would only
 * repeat the failure, and an orchestrator should see the exit code.
 */
export function superviseWorkers(count: number, logLevel: string): void {
  const log = pino(loggerOptions(logLevel));
  const listening = new Set<number>();
  let stopping = false;
  let exitCode = 0;
  let ready = false;

  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.once('listening', () => {
      listening.add(worker.id);
      if (!ready && listening.size === count) {
        ready = true;
        log.info({ workers: count }, 'zoledronic-cds ready');
      }
    });
    return worker;
  };
  const workersLeft = () => Object.keys(cluster.workers ?? {}).length;

  cluster.on('exit', (worker, code, signal) => {
    const wasListening = listening.delete(worker.id);
    if (!stopping && !wasListening) {
      log.fatal({ worker: worker.process.pid, code, signal }, 'a worker failed to start; stopping the service');
      stopping = true;
      exitCode = 1;
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGTERM');
    }
    if (stopping) {
      if (workersLeft() === 0) process.exit(exitCode);
      return;
    }
    log.error({ worker: worker.process.pid, code, signal }, 'a worker exited; starting a replacement');
    fork();
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, workers: count }, 'stopping workers');
    // Each worker drains its connections and flushes its audit queue (close-with-grace), then exits.
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  // Without a configured key each process would pick its own random one, and the audit hashes of
  // one patient would differ between workers. Workers inherit this environment.
  if (!process.env.CDS_AUDIT_HMAC_KEY) process.env.CDS_AUDIT_HMAC_KEY = randomBytes(32).toString('hex');
  log.info({ workers: count }, 'starting HTTP workers');
  for (let i = 0; i < count; i += 1) fork();
}

export const isClusterPrimary = (): boolean => cluster.isPrimary;
