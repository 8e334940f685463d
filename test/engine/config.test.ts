import { loadConfig } from '../../src/config/env';

describe('configuration', () => {
  test('embedded defaults (runtime contract)', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8080, host: '0.0.0.0', publicBaseUrl: 'http://localhost:8080', auth: 'off', fhirTimeoutMs: 2000, dbUrl: 'sqlite:./data/cds.db', logLevel: 'info', corsOrigins: '*' });
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

  test('JWT settings: defaults', () => {
    expect(loadConfig({})).toMatchObject({ jwtClockSkewSeconds: 60, jwtMaxAgeSeconds: 300, jwksTimeoutMs: 2000, jwksCooldownMs: 30000 });
  });
});
