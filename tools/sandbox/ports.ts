import { createServer } from 'node:net';

export interface NamedPort {
  /** The variable that sets this port, so the message says what to change. */
  variable: string;
  port: number;
  host: string;
}

/** Resolves when `port` can be bound on `host`, else rejects with the bind error's code. */
function probe(port: number, host: string): Promise<void> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => reject(error));
    server.listen(port, host, () => server.close(() => resolvePort()));
  });
}

/**
 * Checks every port before anything starts or prints, so a busy port is one clear line naming its
 * variable instead of a banner followed by a crash.
 */
export async function assertPortsFree(ports: readonly NamedPort[]): Promise<void> {
  const problems: string[] = [];
  for (const { variable, port, host } of ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      problems.push(`${variable}=${String(port)} is not a port number (1-65535)`);
      continue;
    }
    try {
      await probe(port, host);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      problems.push(code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use: stop what holds it or set ${variable} to a free port` : `cannot listen on ${host}:${port} (${code}): check ${variable} and SANDBOX_HOST`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
}
