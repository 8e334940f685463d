import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileHooks } from '../../src/knowledge/compile/hooks';
import { PROJECT_ROOT, projectCatalog } from '../support/catalog';
import { fixtureContext } from './fixtures';

const catalog = projectCatalog();
const deps = { ruleSets: catalog.ruleSets, codeLists: catalog.codeLists };
const orderSelect = readFileSync(join(PROJECT_ROOT, 'hooks', 'zoledronic-acid-order-select.yaml'), 'utf8');

function compile(files: Record<string, string>) {
  const ctx = fixtureContext(files);
  const services = compileHooks(ctx, join(ctx.root, 'hooks'), deps);
  return { problems: ctx.problems.list, services };
}

describe('hook compiler', () => {
  test("compiles this repository's order-select service: prefetch keys, reads and searches, trigger", () => {
    const { problems, services } = compile({ 'hooks/zoledronic-acid-order-select.yaml': orderSelect });
    expect(problems).toEqual([]);
    const service = services.get('zoledronic-acid-order-select')!;
    expect(service.hooks).toEqual(['order-select']);
    expect(service.prefetch.find((p) => p.key === 'patient')).toEqual({
      key: 'patient',
      template: 'Patient/{{context.patientId}}',
      required: true,
      resourceType: 'Patient',
      interaction: 'read',
    });
    expect(service.triggerMedication?.id).toBe('zoledronic-acid');
  });

  test.each([
    ['a file named differently from its id', { 'hooks/other.yaml': orderSelect }, "hooks/other.yaml: id: must equal the file name ('other')"],
    [
      'a prefetch token the hook does not define',
      { 'hooks/zoledronic-acid-order-select.yaml': orderSelect.replace('Patient/{{context.patientId}}', 'Patient/{{context.draftOrders}}') },
      "hooks/zoledronic-acid-order-select.yaml: prefetch.patient: '{{context.draftOrders}}' is not a CDS Hooks 2.0 prefetch token for order-select",
    ],
    [
      'an order hook without a trigger medication',
      { 'hooks/zoledronic-acid-order-select.yaml': orderSelect.replace(/\n\s*triggerMedication: .*/, '') },
      'hooks/zoledronic-acid-order-select.yaml: config.triggerMedication: is required for order-select / order-sign services',
    ],
    ['no service at all', {}, 'hooks/: (directory): defines no service'],
  ])('%s is a problem', (_what, files, message) => {
    expect(compile(files).problems).toContain(message);
  });
});
