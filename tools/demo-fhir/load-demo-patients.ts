import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DemoFhirServer } from './demo-fhir-server';
import { daysSinceAnchor, shiftDates } from './demo-dates';
import type { DemoManifest } from './demo-patients';

export const DEMO_PATIENTS_DIR = resolve(__dirname, '..', '..', 'examples', 'patients');

export function readDemoManifest(dir = DEMO_PATIENTS_DIR): DemoManifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as DemoManifest;
}

export interface LoadResult {
  /** Days every date was moved by (today − anchor date). */
  shiftDays: number;
  patients: number;
  resources: number;
}

/**
 * Loads every bundle of the manifest into the server as a FHIR transaction, with dates moved from
 * the anchor date to `asOf` (today by default). Fails loudly on any entry the server refuses.
 */
export async function loadDemoPatients(server: Pick<DemoFhirServer, 'handle'>, options: { dir?: string; asOf?: Date } = {}): Promise<LoadResult> {
  const dir = options.dir ?? DEMO_PATIENTS_DIR;
  const manifest = readDemoManifest(dir);
  const shiftDays = daysSinceAnchor(manifest.anchorDate, options.asOf ?? new Date());
  let resources = 0;
  for (const patient of manifest.patients) {
    const bundle = shiftDates(JSON.parse(readFileSync(join(dir, patient.file), 'utf8')) as { entry?: unknown[] }, shiftDays);
    const { status, body } = await server.handle('POST', '/', bundle);
    const failed = ((body as { entry?: { response?: { status?: string } }[] }).entry ?? []).filter((e) => !/^2\d\d/.test(e.response?.status ?? ''));
    if (status !== 200 || failed.length > 0) {
      throw new Error(`loading ${patient.file} failed: HTTP ${status}${failed.length ? `, ${failed.length} entr(ies) refused` : ''}: ${JSON.stringify(body).slice(0, 500)}`);
    }
    resources += bundle.entry?.length ?? 0;
  }
  return { shiftDays, patients: manifest.patients.length, resources };
}
