/**
 * A fast local FHIR server for the no-prefetch scenario: answers the service's fallback queries for
 * the bench chart from memory (the same store the tests use), in its own process.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyResource } from '../src/engine/resource-index';
import { startFhirServer } from '../test/support/fhir-server';

const chart = JSON.parse(readFileSync(join(__dirname, 'data', 'chart.json'), 'utf8')) as AnyResource[];
startFhirServer(chart).then((server) => {
  process.stdout.write(`${JSON.stringify({ listening: server.url })}\n`);
  // Keep-alive connections from the service would hold close() open; the bench is done with it.
  process.on('SIGTERM', () => process.exit(0));
});
