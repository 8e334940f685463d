import { loadConfig } from '../../src/config/env';

const PRODUCTION = {
  NODE_ENV: 'production',
  CDS_TRUSTED_ISSUERS: '/etc/cds/issuers.json',
  PUBLIC_BASE_URL: 'https://cds.example-hospital.org',
  CDS_FHIR_SERVER_ALLOWLIST: 'https://fhir.example-hospital.org',
};
const KEY = 'k'.repeat(32);

describe('feedback, audit and operations settings', () => {
  test('defaults: embedded SQLite, no retention purge, comments dropped, a 10 000-record audit queue', () => {
    expect(loadConfig({})).toMatchObject({
      dbUrl: 'sqlite:./data/cds.db',
      retentionDays: undefined,
      adminToken: undefined,
      auditHmacKey: undefined,
      auditQueueMax: 10000,
      feedbackComments: 'drop',
    });
  });

  test('production needs an audit HMAC key (patient hashes must agree across replicas and restarts)', () => {
    expect(() => loadConfig(PRODUCTION)).toThrow('requires CDS_AUDIT_HMAC_KEY');
    expect(loadConfig({ ...PRODUCTION, CDS_AUDIT_HMAC_KEY: KEY }).auditHmacKey).toBe(KEY);
  });

  test('values are read and converted', () => {
    expect(
      loadConfig({ CDS_RETENTION_DAYS: '400', CDS_AUDIT_QUEUE_MAX: '50', CDS_FEEDBACK_COMMENTS: 'store', CDS_DB_URL: 'postgres://cds@db:5432/cds?schema=cds', CDS_ADMIN_TOKEN: 'a'.repeat(40) }),
    ).toMatchObject({ retentionDays: 400, auditQueueMax: 50, feedbackComments: 'store', dbUrl: 'postgres://cds@db:5432/cds?schema=cds', adminToken: 'a'.repeat(40) });
  });

  test.each([
    [{ CDS_AUDIT_HMAC_KEY: 'short' }, 'CDS_AUDIT_HMAC_KEY'],
    [{ CDS_ADMIN_TOKEN: 'letmein' }, 'CDS_ADMIN_TOKEN'],
    [{ CDS_RETENTION_DAYS: '0' }, 'CDS_RETENTION_DAYS'],
    [{ CDS_RETENTION_DAYS: 'forever' }, 'CDS_RETENTION_DAYS'],
    [{ CDS_AUDIT_QUEUE_MAX: '0' }, 'CDS_AUDIT_QUEUE_MAX'],
    [{ CDS_FEEDBACK_COMMENTS: 'keep' }, 'CDS_FEEDBACK_COMMENTS'],
    [{ CDS_DB_URL: 'mysql://db/cds' }, 'CDS_DB_URL'],
  ])('a bad value stops start-up naming the variable (and never echoing it): %o', (env, name) => {
    let message = '';
    try {
      loadConfig(env);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(new RegExp(`\\[config\\] invalid environment: .*${name}`));
    expect(message).not.toContain(Object.values(env)[0]);
  });
});
