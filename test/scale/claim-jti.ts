// A separate process presenting a JWT id to the shared replay cache (used by two-replicas.test.ts):
//   tsx test/scale/claim-jti.ts <db-url> <issuer> <jti> <expires-at-ms>   → prints {"seen": true|false}
import { StoreReplayCache } from '../../src/auth/store-replay-cache';
import { openStore } from '../../src/store/open-store';

async function main(): Promise<void> {
  const [url, issuer, jti, exp] = process.argv.slice(2);
  const store = openStore(url!);
  try {
    await store.migrate();
    const seen = await new StoreReplayCache(store).seen(jti!, issuer!, Number(exp));
    process.stdout.write(`${JSON.stringify({ seen })}\n`);
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
