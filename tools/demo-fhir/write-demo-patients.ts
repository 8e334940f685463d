import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoManifest, demoPatients, transactionBundle } from './demo-patients';
import { DEMO_PATIENTS_DIR } from './load-demo-patients';

/** `npm run demo:patients`: writes examples/patients/*.json and manifest.json from demo-patients.ts. */
export function renderDemoFiles(): Map<string, string> {
  const patients = demoPatients();
  const files = new Map<string, string>();
  for (const patient of patients) files.set(patient.file, `${JSON.stringify(transactionBundle(patient.chart), null, 2)}\n`);
  files.set('manifest.json', `${JSON.stringify(demoManifest(patients), null, 2)}\n`);
  return files;
}

if (require.main === module) {
  for (const [name, text] of renderDemoFiles()) writeFileSync(join(DEMO_PATIENTS_DIR, name), text);
  process.stdout.write(`wrote ${DEMO_PATIENTS_DIR}\n`);
}
