import { parseArgs } from 'node:util';
import { loadConfig } from '../config/env';
import { retentionCutoff } from '../operations/retention';
import { openStore } from '../store/open-store';

const USAGE = `Usage: npm run purge -- [--days N]

Deletes audit rows (hook calls, issued cards) and feedback older than N days (default
CDS_RETENTION_DAYS), feedback older than CDS_FEEDBACK_RETENTION_DAYS (365), and expired jti
replay entries, in the store named by CDS_DB_URL.`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { days: { type: 'string' }, help: { type: 'boolean', default: false } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const config = loadConfig();
  const days = values.days !== undefined ? Number(values.days) : config.retentionDays;
  if (days === undefined) throw new TypeError('give --days N or set CDS_RETENTION_DAYS');
  if (!Number.isInteger(days) || days < 1) throw new TypeError('--days must be a positive integer');
  const store = openStore(config.dbUrl);
  try {
    await store.migrate();
    const now = Date.now();
    const result = await store.purge(retentionCutoff(now, days), now, retentionCutoff(now, config.feedbackRetentionDays));
    process.stdout.write(
      `Purged rows older than ${days} days (before ${new Date(retentionCutoff(now, days)!).toISOString()}): ` +
        `hook calls ${result.hookCalls}, issued cards ${result.issuedCards}, feedback ${result.feedback}; expired jti entries ${result.replayEntries}\n`,
    );
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`purge: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
  process.exit(1);
});
