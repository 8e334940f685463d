import request from 'supertest';
import { buildTestApp, type TestApp } from '../support/app';
import { ELIGIBILITY, ORDER_CHECK } from '../support/requests';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

describe('GET /cds-services', () => {
  test('lists the patient-view service and one order id under both order hooks, spec fields only', async () => {
    const response = await request(t.app.server).get('/cds-services');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/application\/json/);
    const services = response.body.services as Record<string, unknown>[];
    expect(services.map((s) => [s.hook, s.id])).toEqual([
      ['patient-view', ELIGIBILITY],
      ['order-select', ORDER_CHECK],
      ['order-sign', ORDER_CHECK],
    ]);
    for (const service of services) {
      expect(Object.keys(service).sort()).toEqual(['description', 'hook', 'id', 'prefetch', 'title', 'usageRequirements']);
      expect(service).not.toHaveProperty('config');
    }
  });

  test('prefetch templates use only CDS Hooks 2.0 tokens and no FHIRPath', async () => {
    const response = await request(t.app.server).get('/cds-services');
    for (const service of response.body.services as { prefetch: Record<string, string> }[]) {
      expect(service.prefetch.patient).toBe('Patient/{{context.patientId}}');
      for (const template of Object.values(service.prefetch)) {
        const tokens = [...template.matchAll(/\{\{([^}]*)\}\}/g)].map((m) => m[1]);
        expect(tokens.every((token) => ['context.patientId', 'context.userId', 'context.encounterId'].includes(token!))).toBe(true);
      }
    }
  });
});
