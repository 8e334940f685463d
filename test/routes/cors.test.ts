import request from 'supertest';
import { buildTestApp } from '../support/app';
import { ELIGIBILITY } from '../support/requests';

describe('CORS for browser clients (the CDS Hooks sandbox)', () => {
  test.each(['/cds-services', `/cds-services/${ELIGIBILITY}`, `/cds-services/${ELIGIBILITY}/feedback`])('preflight on %s allows Authorization and Content-Type', async (path) => {
    const t = await buildTestApp();
    try {
      const response = await request(t.app.server)
        .options(path)
        .set('origin', 'https://sandbox.cds-hooks.org')
        .set('access-control-request-method', 'POST')
        .set('access-control-request-headers', 'authorization,content-type');
      expect(response.status).toBe(204);
      expect(response.headers['access-control-allow-origin']).toBe('*');
      expect(response.headers['access-control-allow-headers']).toMatch(/Authorization/);
      expect(response.headers['access-control-allow-headers']).toMatch(/Content-Type/);
      expect(response.headers['access-control-allow-methods']).toMatch(/POST/);
    } finally {
      await t.close();
    }
  });

  test('allowed origins are configurable: a listed origin is echoed, another is not', async () => {
    const t = await buildTestApp({ env: { CDS_CORS_ORIGINS: 'https://sandbox.cds-hooks.org, https://ehr.example.org' } });
    try {
      const allowed = await request(t.app.server).get('/cds-services').set('origin', 'https://ehr.example.org');
      expect(allowed.headers['access-control-allow-origin']).toBe('https://ehr.example.org');
      const refused = await request(t.app.server).get('/cds-services').set('origin', 'https://evil.example');
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});
