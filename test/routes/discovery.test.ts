import request from 'supertest';
import { buildTestApp, type TestApp } from '../support/app';
import { ELIGIBILITY, ORDER_SELECT, ORDER_SIGN } from '../support/requests';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

describe('GET /cds-services', () => {
  test('lists one service per hook, spec fields only', async () => {
    const response = await request(t.app.server).get('/cds-services');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/application\/json/);
    const services = response.body.services as Record<string, unknown>[];
    expect(services.map((s) => [s.hook, s.id])).toEqual([
      ['patient-view', ELIGIBILITY],
      ['order-select', ORDER_SELECT],
      ['order-sign', ORDER_SIGN],
    ]);
    for (const service of services) {
      expect(Object.keys(service).sort()).toEqual(['description', 'hook', 'id', 'prefetch', 'title', 'usageRequirements']);
      expect(service).not.toHaveProperty('config');
    }
  });

  // Contract: CDS clients (the CDS Hooks sandbox among them) key services by id; an id listed twice
  // makes the later entry replace the earlier one, and that hook is never called.
  test('every service id appears exactly once, and every listed id answers its own hook', async () => {
    const services = (await request(t.app.server).get('/cds-services')).body.services as { id: string; hook: string }[];
    const ids = services.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { id, hook } of services) {
      const other = services.find((s) => s.id !== id)!;
      const mismatch = await request(t.app.server).post(`/cds-services/${id}`).send({ hookInstance: '6b0a3b1e-2f59-4a53-9a0e-1c1f7f6a9d10', hook: other.hook, context: {} });
      expect(mismatch.status).toBe(400);
      expect(mismatch.body.issue[0].details.coding[0].code).toBe('CDS_HOOK_MISMATCH');
      expect(mismatch.body.issue[0].diagnostics).toContain(`it serves ${hook}`);
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
