import { loadConfig } from '../../src/config/env';

describe('configuration', () => {
  test('embedded defaults (runtime contract)', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', publicBaseUrl: 'http://localhost:8080', auth: 'off', fhirTimeoutMs: 2000, dbUrl: 'sqlite:./data/cds.db', logLevel: 'info', corsOrigins: '*' });
  });

  test('HOST: loopback only outside production, every interface in production, or as set', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    const production = {
      NODE_ENV: 'production',
      CDS_TRUSTED_ISSUERS: '/x.json',
      CDS_AUDIT_HMAC_KEY: 'k'.repeat(32),
      PUBLIC_BASE_URL: 'https://cds.hospital.org',
      CDS_FHIR_SERVER_ALLOWLIST: 'https://fhir.hospital.org',
    };
    expect(loadConfig(production).host).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  test('load-shedding variables accept fractions and name themselves when bad', () => {
    expect(loadConfig({ CDS_SHED_EVENT_LOOP_UTILIZATION: '0.95' }).shedEventLoopUtilization).toBe(0.95);
    expect(() => loadConfig({ CDS_SHED_EVENT_LOOP_UTILIZATION: '1.5' })).toThrow(/CDS_SHED_EVENT_LOOP_UTILIZATION/);
    expect(() => loadConfig({ CDS_SHED_EVENT_LOOP_DELAY_MS: 'soon' })).toThrow(/CDS_SHED_EVENT_LOOP_DELAY_MS/);
  });

  test('PUBLIC_BASE_URL follows PORT by default and loses a trailing slash', () => {
    expect(loadConfig({ PORT: '9090' }).publicBaseUrl).toBe('http://localhost:9090');
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://cds.hospital.org/' }).publicBaseUrl).toBe('https://cds.hospital.org');
  });

  test.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ CDS_FHIR_TIMEOUT_MS: '5' }, 'CDS_FHIR_TIMEOUT_MS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ CDS_AUTH: 'maybe' }, 'CDS_AUTH'],
  ])('a bad value names the variable: %o', (env, name) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`\\[config\\] invalid environment: .*${name}`));
  });

  test('production refuses CDS_AUTH=off and a missing issuer list', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', CDS_AUTH: 'off', CDS_TRUSTED_ISSUERS: '/etc/issuers.json' })).toThrow('forbids CDS_AUTH=off');
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow('requires CDS_TRUSTED_ISSUERS');
  });

  test('security settings: defaults, and the fhirServer allow-list as normalized origins', () => {
    expect(loadConfig({})).toMatchObject({
      jwtClockSkewSeconds: 60,
      jwtMaxAgeSeconds: 300,
      jwksTimeoutMs: 2000,
      jwksCooldownMs: 30000,
      rateLimitMax: 60000,
      rateLimitWindowMs: 60000,
      fhirServerAllowlist: undefined,
    });
    expect(loadConfig({ CDS_FHIR_SERVER_ALLOWLIST: 'https://FHIR.hospital.org, http://127.0.0.1:8081/' }).fhirServerAllowlist).toEqual([
      'https://fhir.hospital.org',
      'http://127.0.0.1:8081',
    ]);
    expect(() => loadConfig({ CDS_FHIR_SERVER_ALLOWLIST: 'https://fhir.hospital.org/r4' })).toThrow("CDS_FHIR_SERVER_ALLOWLIST: 'https://fhir.hospital.org/r4' must be an origin");
    expect(() => loadConfig({ CDS_FHIR_SERVER_ALLOWLIST: 'fhir.hospital.org' })).toThrow('is not a URL');
    expect(() => loadConfig({ CDS_RATE_LIMIT_MAX: '0' })).toThrow(/CDS_RATE_LIMIT_MAX/);
  });
});
