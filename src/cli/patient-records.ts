import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AnyResource } from '../schemas/fhir-resource';

/** One patient's chart, as the offline evaluator runs it. */
export interface PatientRecord {
  patientId: string;
  patient: AnyResource | undefined;
  resources: AnyResource[];
}

export interface PatientRecords {
  records: PatientRecord[];
  /** Resources that name no patient (Practitioner, Medication …): shared by every record. */
  shared: AnyResource[];
  /** Resources whose patient could not be found in the input; reported, not evaluated. */
  orphans: number;
  /** Lines or entries that were not FHIR resources. */
  skipped: number;
}

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

const PATIENT_FIELDS = ['subject', 'patient'];

function isResource(value: unknown): value is AnyResource {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as AnyResource).resourceType === 'string';
}

/**
 * Groups resources by patient the way a FHIR server would link them: a Patient's own id, and
 * `subject`/`patient` references as `Patient/x`, absolute URLs ending in `Patient/x`, or the
 * `urn:uuid:` fullUrl of a Patient entry in a transaction Bundle (Synthea writes those). urn:uuid
 * references between entries are rewritten to `Type/id`, as a server does when it stores a transaction.
 */
function groupByPatient(entries: readonly { resource: AnyResource; fullUrl?: string }[], skipped = 0): PatientRecords {
  const byFullUrl = new Map<string, string>();
  let generated = 0;
  for (const entry of entries) {
    const resource = entry.resource;
    if (resource.id === undefined && entry.fullUrl?.startsWith('urn:uuid:')) resource.id = entry.fullUrl.slice('urn:uuid:'.length);
    if (resource.id === undefined && resource.resourceType === 'Patient') resource.id = `patient-${++generated}`;
    if (entry.fullUrl && resource.id !== undefined) byFullUrl.set(entry.fullUrl, `${resource.resourceType}/${String(resource.id)}`);
  }
  const rewrite = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(rewrite);
    else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (typeof record.reference === 'string' && byFullUrl.has(record.reference)) record.reference = byFullUrl.get(record.reference);
      for (const value of Object.values(record)) rewrite(value);
    }
  };
  if (byFullUrl.size > 0) for (const entry of entries) rewrite(entry.resource);

  const records = new Map<string, PatientRecord>();
  const recordFor = (id: string) => {
    let record = records.get(id);
    if (!record) {
      record = { patientId: id, patient: undefined, resources: [] };
      records.set(id, record);
    }
    return record;
  };
  const shared: AnyResource[] = [];
  const pending: { id: string; resource: AnyResource }[] = [];
  for (const { resource } of entries) {
    if (resource.resourceType === 'Patient') {
      recordFor(String(resource.id)).patient = resource;
      continue;
    }
    const id = patientIdOf(resource);
    if (id === undefined) shared.push(resource);
    else pending.push({ id, resource });
  }
  let orphans = 0;
  for (const { id, resource } of pending) {
    const record = records.get(id);
    if (record) record.resources.push(resource);
    else orphans += 1;
  }
  return { records: [...records.values()], shared, orphans, skipped };
}

function patientIdOf(resource: AnyResource): string | undefined {
  for (const field of PATIENT_FIELDS) {
    const ref = (resource[field] as { reference?: unknown } | undefined)?.reference;
    if (typeof ref !== 'string') continue;
    const match = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref);
    if (match) return match[1];
  }
  return undefined;
}

/** A FHIR Bundle file (collection, transaction, batch or searchset), or a single resource. */
function readBundleFile(path: string): PatientRecords {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InputError(`${path}: not readable JSON (${(error as Error).message})`);
  }
  if (!isResource(parsed)) throw new InputError(`${path}: not a FHIR resource (no resourceType)`);
  if (parsed.resourceType !== 'Bundle') return groupByPatient([{ resource: parsed }]);
  const entries: { resource: AnyResource; fullUrl?: string }[] = [];
  let skipped = 0;
  for (const entry of Array.isArray(parsed.entry) ? parsed.entry : []) {
    const resource = (entry as { resource?: unknown })?.resource;
    if (!isResource(resource)) {
      skipped += 1;
      continue;
    }
    const fullUrl = (entry as { fullUrl?: unknown }).fullUrl;
    entries.push({ resource, ...(typeof fullUrl === 'string' ? { fullUrl } : {}) });
  }
  return groupByPatient(entries, skipped);
}

/** Every `*.ndjson` file of a FHIR bulk-data export directory, streamed line by line. */
async function readNdjsonDirectory(dir: string, onFile?: (name: string, lines: number) => void): Promise<PatientRecords> {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.ndjson'))
    .sort();
  if (files.length === 0) throw new InputError(`${dir}: no .ndjson files (expected a FHIR bulk-data export)`);
  const entries: { resource: AnyResource }[] = [];
  let skipped = 0;
  for (const name of files) {
    let lines = 0;
    const reader = createInterface({ input: createReadStream(join(dir, name), 'utf8'), crlfDelay: Infinity });
    for await (const line of reader) {
      if (line.trim() === '') continue;
      lines += 1;
      try {
        const resource = JSON.parse(line) as unknown;
        if (isResource(resource)) entries.push({ resource });
        else skipped += 1;
      } catch {
        skipped += 1;
      }
    }
    onFile?.(name, lines);
  }
  return groupByPatient(entries, skipped);
}

export async function readPatientRecords(path: string, onFile?: (name: string, lines: number) => void): Promise<PatientRecords> {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new InputError(`${path}: no such file or directory`);
  }
  return stats.isDirectory() ? readNdjsonDirectory(path, onFile) : readBundleFile(path);
}
