#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AnyResource } from '../schemas/fhir-resource';
import { parseFhirDate } from '../fhir/dates';
import { loadCatalog } from '../knowledge/knowledge-files-on-disk';
import { hookModuleFor, knownHookNames } from '../cds-hooks/registry';
import { OfflineEvaluator, type PatientResult } from './evaluate';
import { InputError, readPatientRecords } from './patient-records';
import { ProgressBar, renderPatientCards, renderSummaryTable, ruleCounts } from './render';

/**
 * `zoledronic-cds evaluate`: the service's engine, offline, on a FHIR Bundle or a bulk-data NDJSON
 * export — so informaticists can test the rules on exported data without a server or an EHR.
 */
/** The help text; the hooks are those the registry knows (src/cds-hooks/registry.ts). */
const usage = (): string => `Usage: zoledronic-cds evaluate <bundle.json | ndjson-dir> [options]

Runs the CDS service's rules offline (no server, no network) and prints the cards.

Options:
  --hook <hook>                                 hook to simulate (default ${knownHookNames()[0]}); one of
                                                ${knownHookNames().join(', ')}
  --order <MedicationRequest.json>              draft order for order hooks (default: zoledronic
                                                acid 4 mg IV over 15 min every 6 months)
  --format text|json                            text: cards for one patient, a summary table for
                                                several (default); json: every card of every patient
  --now <YYYY-MM-DD | dateTime>                 evaluate as of this date (default: now)
  --user <Practitioner/id>                      context.userId (default Practitioner/cli-user)
  --knowledge <dir>                             knowledge base root (hooks/, rules/, fhir-mappings/)
  --quiet                                       no progress on stderr
  -h, --help                                    this help
`;

class UsageError extends Error {}

interface Parsed {
  input: string;
  hook: string;
  order: AnyResource | undefined;
  format: 'text' | 'json';
  now: number;
  userId: string;
  knowledge: string;
  quiet: boolean;
}

function parse(argv: string[]): Parsed | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      hook: { type: 'string', default: knownHookNames()[0] },
      order: { type: 'string' },
      format: { type: 'string', default: 'text' },
      now: { type: 'string' },
      user: { type: 'string', default: 'Practitioner/cli-user' },
      knowledge: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const [command, input, ...extra] = positionals;
  if (command !== 'evaluate') throw new UsageError(command ? `unknown command '${command}'` : 'missing command');
  if (!input) throw new UsageError('missing <bundle.json | ndjson-dir>');
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const module = hookModuleFor(values.hook!);
  if (!module) throw new UsageError(`--hook must be one of ${knownHookNames().join(', ')}`);
  if (values.format !== 'text' && values.format !== 'json') throw new UsageError('--format must be text or json');
  if (values.order && !module.draftOrders) {
    throw new UsageError(`--order needs a hook with draft orders (${knownHookNames().filter((name) => hookModuleFor(name)?.draftOrders).join(' or ')})`);
  }
  const now = values.now === undefined ? Date.now() : parseFhirDate(values.now);
  if (now === undefined) throw new UsageError(`--now: '${values.now}' is not a date (YYYY-MM-DD or an ISO dateTime)`);
  if (!/^(Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/.test(values.user!)) throw new UsageError('--user must be Practitioner/<id> or PractitionerRole/<id>');
  let order: AnyResource | undefined;
  if (values.order) {
    try {
      order = JSON.parse(readFileSync(values.order, 'utf8')) as AnyResource;
    } catch (error) {
      throw new InputError(`--order ${values.order}: ${(error as Error).message}`);
    }
  }
  return {
    input,
    hook: values.hook!,
    order,
    format: values.format,
    now,
    userId: values.user!,
    // dist/cli/ or src/cli/ → the repository root, where hooks/, rules/ and fhir-mappings/ live.
    knowledge: values.knowledge ?? resolve(__dirname, '..', '..'),
    quiet: values.quiet!,
  };
}

async function evaluate(options: Parsed): Promise<void> {
  const catalog = loadCatalog({ root: options.knowledge });
  let evaluator: OfflineEvaluator;
  try {
    evaluator = new OfflineEvaluator(catalog, { hook: options.hook, now: options.now, userId: options.userId, ...(options.order ? { order: options.order } : {}) });
  } catch (error) {
    // Option misuse (a non-MedicationRequest --order, a template the offline search cannot run).
    if (error instanceof TypeError) throw new InputError(error.message);
    throw error;
  }
  const input = await readPatientRecords(options.input, (name, lines) => {
    if (!options.quiet) process.stderr.write(`read ${name}: ${lines} resource(s)\n`);
  });
  if (input.records.length === 0) throw new InputError(`${options.input}: no Patient resources found`);
  if (input.orphans > 0) process.stderr.write(`warning: ${input.orphans} resource(s) name a patient that is not in the input; ignored\n`);
  if (input.skipped > 0) process.stderr.write(`warning: ${input.skipped} line(s)/entr(ies) are not FHIR resources; ignored\n`);

  const progress = !options.quiet && input.records.length > 1 ? new ProgressBar(input.records.length, process.stderr) : undefined;
  const results: PatientResult[] = [];
  for (const record of input.records) {
    results.push(await evaluator.evaluate(record, input.shared));
    progress?.update(results.length);
  }

  const asOf = new Date(options.now).toISOString().slice(0, 10);
  if (options.format === 'json') {
    const summary = { patients: results.length, cards: results.reduce((n, r) => n + r.cards.length, 0), byRule: Object.fromEntries(ruleCounts(results)) };
    process.stdout.write(`${JSON.stringify({ hook: options.hook, service: evaluator.serviceId, asOf: new Date(options.now).toISOString(), summary, patients: results }, null, 2)}\n`);
  } else if (results.length === 1) {
    process.stdout.write(renderPatientCards(results[0]!, asOf));
  } else {
    process.stdout.write(renderSummaryTable(results, asOf, options.hook));
  }
}

export async function main(argv: string[]): Promise<number> {
  let options: Parsed | 'help';
  try {
    options = parse(argv);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`zoledronic-cds: ${(error as Error).message}\n\n${usage()}`);
      return 2;
    }
    if (error instanceof InputError) {
      process.stderr.write(`zoledronic-cds: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  try {
    await evaluate(options);
    return 0;
  } catch (error) {
    // Input and knowledge-base problems are the user's to fix: one clear message, no stack.
    if (error instanceof InputError || (error as Error).name === 'KnowledgeError') {
      process.stderr.write(`zoledronic-cds: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`zoledronic-cds: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
