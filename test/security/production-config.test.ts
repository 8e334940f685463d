import request from 'supertest';
import { loadConfig } from '../../src/config/env';
import { buildTestApp } from '../support/app';

/**
 * Issue 14, Medium 5 and Low 10–11: production refuses to start without the settings whose absence
 * the review exploited, and its defaults are closed.
 */
const PRODUCTION = {
  NODE_ENV: 'production',
  CDS_TRUSTED_ISSUERS: '/etc/cds/issuers.json',
  CDS_AUDIT_HMAC_KEY: 'k'.repeat(32),
  PUBLIC_BASE_URL: 'https://cds.example-hospital.org',
  CDS_FHIR_SERVER_ALLOWLIST: 'https://fhir.example-hospital.org',
};

test('production without PUBLIC_BASE_URL does not start', () => {
  const { PUBLIC_BASE_URL: _omitted, ...env } = PRODUCTION;
  expect(() => loadConfig(env)).toThrow('NODE_ENV=production requires PUBLIC_BASE_URL');
});

test('production without CDS_FHIR_SERVER_ALLOWLIST does not start; "*" is an explicit opt-out', () => {
  const { CDS_FHIR_SERVER_ALLOWLIST: _omitted, ...env } = PRODUCTION;
  expect(() => loadConfig(env)).toThrow('NODE_ENV=production requires CDS_FHIR_SERVER_ALLOWLIST');
  expect(loadConfig({ ...env, CDS_FHIR_SERVER_ALLOWLIST: '*' })).toMatchObject({ fhirServerAllowlist: undefined, fhirServerAllowAny: true });
  expect(loadConfig(PRODUCTION)).toMatchObject({ fhirServerAllowlist: ['https://fhir.example-hospital.org'], fhirServerAllowAny: false });
});

test('CORS: no origin in production unless configured; "*" outside production', () => {
  expect(loadConfig(PRODUCTION).corsOrigins).toEqual([]);
  expect(loadConfig({ ...PRODUCTION, CDS_CORS_ORIGINS: 'https://ehr.example-hospital.org' }).corsOrigins).toEqual(['https://ehr.example-hospital.org']);
  expect(loadConfig({}).corsOrigins).toBe('*');
});

test('FHIR work bounds and the connection cap have safe defaults', () => {
  expect(loadConfig({})).toMatchObject({
    fhirMaxResponseBytes: 4 * 1024 * 1024,
    fhirMaxCallBytes: 8 * 1024 * 1024,
    fhirMaxConcurrentDecodes: 4,
    fhirMaxSocketsPerOrigin: 16,
    maxConnections: 1024,
  });
});

test('a browser preflight from any origin gets no CORS grant with the production default', async () => {
  // The production CORS default (an empty list), on an app that otherwise runs as in development.
  const t = await buildTestApp();
  const production = await buildTestApp({ config: { ...loadConfig({ LOG_LEVEL: 'info', CDS_DB_URL: 'sqlite::memory:' }), corsOrigins: [] } });
  try {
    const open = await request(t.app.server).options('/cds-services').set('origin', 'https://evil.example').set('access-control-request-method', 'GET');
    expect(open.headers['access-control-allow-origin']).toBe('*');
    const closed = await request(production.app.server).options('/cds-services').set('origin', 'https://evil.example').set('access-control-request-method', 'GET');
    expect(closed.headers['access-control-allow-origin']).toBeUndefined();
  } finally {
    await t.close();
    await production.close();
  }
});

test('feedback is bounded by default: one-year retention and a per-client storage quota', () => {
  expect(loadConfig({})).toMatchObject({ feedbackRetentionDays: 365, feedbackQuotaBytes: 50 * 1024 * 1024 });
});
