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
 * The service gets a CDS_TRUSTED_ISSUERS file naming the harness and, by default, checks every
 * call's JWT (CDS_AUTH=required) as a hospital deployment does. The demo EHR page signs with a
 * throwaway browser key nobody trusts, so the browser test runs the service with auth off
 * (`auth: 'off'`), like `npm run sandbox` in development. E2E_CDS_AUTH overrides both.
 */
export interface SandboxEnv {
  fhir: ChildHandle & { ready: DemoFhirReady };
  service: ChildHandle;
  issuer: HarnessIssuer;
  client: CdsClient;
  close(): Promise<void>;
}

export async function startSandboxEnv(options: { auth?: 'required' | 'off' } = {}): Promise<SandboxEnv> {
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
          CDS_AUTH: process.env.E2E_CDS_AUTH ?? options.auth ?? 'required',
          CDS_TRUSTED_ISSUERS: issuersFile,
          // Correctness, not latency, is tested here; the CI machine runs other test workers meanwhile.
          CDS_FHIR_TIMEOUT_MS: '15000',
          // Likewise no load shedding: a shed 503 on a busy CI host is not a clinical result.
          CDS_SHED_EVENT_LOOP_DELAY_MS: '0',
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
