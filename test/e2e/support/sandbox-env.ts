import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CdsClient, type Card as ClientCard } from '../../../tools/cds-client/cds-client';
import { startHarnessIssuer, type HarnessIssuer } from '../../../tools/cds-client/issuer';
import { freePort, startCdsServiceProcess, startDemoFhirProcess, type ChildHandle, type DemoFhirReady } from '../../../tools/sandbox/processes';
import type { Card } from '../../../src/schemas/cds-response';
import { recordCards } from '../../support/card-invariants';

/**
 * The sandbox set-up as real processes on random ports: the demo FHIR server (demo patients moved to
 * today) and the CDS service (src/server.ts, real clock), plus the harness's issuer (JWKS over HTTP).
 * The service gets a CDS_TRUSTED_ISSUERS file naming the harness, so the same test runs with
 * E2E_CDS_AUTH=required once JWT verification is in the service; on this branch CDS_AUTH=off.
 */
export interface SandboxEnv {
  fhir: ChildHandle & { ready: DemoFhirReady };
  service: ChildHandle;
  issuer: HarnessIssuer;
  client: CdsClient;
  close(): Promise<void>;
}

export async function startSandboxEnv(): Promise<SandboxEnv> {
  const issuer = await startHarnessIssuer();
  const dir = mkdtempSync(join(tmpdir(), 'zol-e2e-'));
  const issuersFile = join(dir, 'trusted-issuers.json');
  writeFileSync(issuersFile, JSON.stringify([issuer.trustedIssuer('jwks_uri')]));
  const [fhirPort, servicePort] = [await freePort(), await freePort()];
  let fhir: (ChildHandle & { ready: DemoFhirReady }) | undefined;
  let service: ChildHandle | undefined;
  try {
    [fhir, service] = await Promise.all([
      startDemoFhirProcess({ port: fhirPort }),
      startCdsServiceProcess({
        port: servicePort,
        env: {
          CDS_AUTH: process.env.E2E_CDS_AUTH ?? 'off',
          CDS_TRUSTED_ISSUERS: issuersFile,
          // Correctness, not latency, is tested here; the CI machine runs other test workers meanwhile.
          CDS_FHIR_TIMEOUT_MS: '15000',
          CDS_DB_URL: `sqlite:${join(dir, 'cds.db')}`,
        },
      }),
    ]);
  } catch (error) {
    await Promise.all([fhir?.stop(), service?.stop(), issuer.close()]);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const client = new CdsClient({ serviceBase: service.url, fhirServer: fhir.url, tokenFor: issuer.tokenFor });
  const running = { fhir, service };
  return {
    ...running,
    issuer,
    client,
    close: async () => {
      await Promise.all([running.fhir.stop(), running.service.stop(), issuer.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The service's one log line for a hook call (it is written just after the response, so poll briefly).
 * Logs carry ids and counts only, never patient data.
 */
export async function requestLogOf(service: ChildHandle, hookInstance: string): Promise<Record<string, unknown>> {
  for (let waited = 0; waited < 3000; waited += 50) {
    for (const line of service.output) {
      if (!line.includes(hookInstance)) continue;
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.hookInstance === hookInstance && entry.msg === 'request completed') return entry;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no request log line for hookInstance ${hookInstance}`);
}

/** Hands the cards to the jest setup that checks every card against the CDS Hooks invariants. */
export function checkCards(cards: readonly ClientCard[]): void {
  recordCards(cards as unknown as Card[]);
}
