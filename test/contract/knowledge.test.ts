import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { KnowledgeError } from '../../src/knowledge/load-catalog';
import { loadCatalog } from '../../src/knowledge/knowledge-files-on-disk';
import { PROJECT_ROOT, projectCatalog } from '../support/catalog';

const catalog = projectCatalog();

describe('the knowledge files', () => {
  test('load and validate: one service per hook, every catalogue rule', () => {
    expect([...catalog.services.keys()].sort()).toEqual(['zoledronic-acid-eligibility', 'zoledronic-acid-order-select', 'zoledronic-acid-order-sign']);
    for (const service of catalog.services.values()) expect(service.hooks).toHaveLength(1);
    const ids = [...catalog.ruleSets.values()].flatMap((set) => set.rules.map((r) => r.id));
    for (const id of [
      'PV-RECOMMEND', 'PV-CONSIDER', 'PV-CTIBL', 'PV-NOT-FOR-RECURRENCE', 'PV-MENOPAUSE-UNKNOWN', 'PV-DEXA', 'PV-NEXT-DOSE', 'PV-COURSE-COMPLETE', 'PV-CALCIUM-VITD',
      'OS-DENTAL', 'OS-ONJ', 'OS-CREATININE-MISSING', 'OS-RENAL-SEVERE', 'OS-RENAL-ADJUST', 'OS-RENAL-DETERIORATION', 'OS-HYPOCALCEMIA', 'OS-CALCIUM-VITD',
      'OS-DUPLICATE', 'OS-REGIMEN', 'OS-PREGNANCY', 'OS-HYPERSENSITIVITY', 'OS-INDICATION', 'OS-ACUTE-PHASE',
    ]) expect(ids).toContain(id);
  });

  test('the order-select and order-sign services ask for the same data and run the same rules', () => {
    const select = catalog.services.get('zoledronic-acid-order-select')!.definition;
    const sign = catalog.services.get('zoledronic-acid-order-sign')!.definition;
    expect(sign.prefetch).toEqual(select.prefetch);
    expect(sign.config).toEqual(select.config);
    expect(sign.description).toEqual(select.description);
  });

  test('every rule cites evidence with an https URL, and warning/critical rules offer override reasons', () => {
    for (const set of catalog.ruleSets.values()) {
      for (const rule of set.rules) {
        expect(rule.card.evidence.length).toBeGreaterThan(0);
        for (const id of rule.card.evidence) expect(catalog.evidence[id]!.url).toMatch(/^https:\/\//);
        if (rule.indicator !== 'info') expect(rule.card.overrideReasons?.length ?? 0).toBeGreaterThan(0);
      }
    }
  });

  test('the Observation prefetch queries cover every Observation code the fact mappings read', () => {
    const codesInQueries = (serviceId: string) =>
      new Set(
        catalog.services
          .get(serviceId)!
          .prefetch.filter((p) => p.resourceType === 'Observation')
          .flatMap((p) => new URLSearchParams(p.template.split('?')[1]).get('code')!.split(',')),
      );
    const listIds = new Set<string>();
    for (const fact of catalog.facts) {
      if (fact.kind === 'coded' || fact.kind === 'quantity' || fact.kind === 'presence') {
        for (const source of fact.sources) if (source.resourceType === 'Observation' && source.codes) listIds.add(source.codes.id);
      }
    }
    for (const serviceId of catalog.services.keys()) {
      const covered = codesInQueries(serviceId);
      for (const id of listIds) {
        const file = parse(readFileSync(join(PROJECT_ROOT, 'fhir-mappings', 'code-lists', `${id}.yaml`), 'utf8')) as { codes: { code: string }[] };
        for (const { code } of file.codes) expect([serviceId, id, code, covered.has(code)]).toEqual([serviceId, id, code, true]);
      }
    }
  });
});

describe('a bad knowledge file stops start-up with a message naming the file and the field', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'knowledge-'));
    for (const sub of ['hooks', 'fhir-mappings', 'rules']) cpSync(join(PROJECT_ROOT, sub), join(dir, sub), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const edit = (path: string, change: (text: string) => string) => writeFileSync(join(dir, path), change(readFileSync(join(dir, path), 'utf8')));
  const problemsOf = () => {
    try {
      loadCatalog({ root: dir });
    } catch (error) {
      expect(error).toBeInstanceOf(KnowledgeError);
      return (error as KnowledgeError).problems;
    }
    throw new Error('expected the catalog to be refused');
  };

  test.each([
    ['a summary of 140+ characters', 'rules/sets/patient-view.yaml', (s: string) => s.replace('summary: "Start calcium and vitamin D supplements for zoledronic acid therapy."', `summary: "${'x'.repeat(150)}"`), 'rules/sets/patient-view.yaml: rules[17].card.summary: must NOT have more than 139 characters'],
    ['an unknown fact in a condition', 'rules/conditions.yaml', (s: string) => s.replace('fact: sex\n    equals: female', 'fact: sexx\n    equals: female'), "rules/conditions.yaml: conditions.female.fact: unknown fact 'sexx'"],
    ['an unknown evidence id', 'rules/sets/order.yaml', (s: string) => s.replace('evidence: [ZOLEDRONIC-5MG-PI]\n      suggestions:\n        - label: Add acetaminophen', 'evidence: [NOPE]\n      suggestions:\n        - label: Add acetaminophen'), "rules/sets/order.yaml: rules[21].card.evidence[0]: unknown evidence 'NOPE' (rules/evidence.yaml)"],
    ['a FHIRPath that does not compile', 'fhir-mappings/defaults.yaml', (s: string) => s.replace(`where: "status = 'completed'"`, `where: "status = = 'completed'"`), 'fhir-mappings/defaults.yaml: resourceTypes.Procedure.where: FHIRPath does not compile'],
    ['a prefetch token that is not CDS Hooks 2.0', 'hooks/zoledronic-acid-eligibility.yaml', (s: string) => s.replace('conditions: "Condition?patient={{context.patientId}}"', 'conditions: "Condition?patient={{context.patient.id}}"'), "hooks/zoledronic-acid-eligibility.yaml: prefetch.conditions: '{{context.patient.id}}' is not a CDS Hooks 2.0 prefetch token"],
    ['a unit that is not UCUM', 'fhir-mappings/facts/07-labs.yaml', (s: string) => s.replace('unit: mg/dL\n    window: { setting: windows.creatinine }', 'unit: milligrams\n    window: { setting: windows.creatinine }'), "fhir-mappings/facts/07-labs.yaml: facts[0].unit: 'milligrams' is not a valid UCUM unit"],
    ['a missing setting', 'rules/settings.yaml', (s: string) => s.replace('    severeCrclBelow: 30', '    severeCrclBelowX: 30'), "setting 'renal.severeCrclBelow' is missing or not a number"],
    ['a code list id that differs from its file name', 'fhir-mappings/code-lists/serum-albumin.yaml', (s: string) => s.replace('id: serum-albumin', 'id: albumin'), "fhir-mappings/code-lists/serum-albumin.yaml: id: must equal the file name ('serum-albumin')"],
    ['one service id under two hooks (clients key services by id)', 'hooks/zoledronic-acid-order-select.yaml', (s: string) => s.replace('hooks: [order-select]', 'hooks: [order-select, order-sign]'), 'hooks/zoledronic-acid-order-select.yaml: hooks: must list one hook'],
    ['YAML syntax', 'rules/override-reasons.yaml', (s: string) => `${s}\n  broken: [unclosed\n`, 'rules/override-reasons.yaml: line'],
  ])('%s', (_name, path, change, expected) => {
    edit(path, change);
    expect(problemsOf().join('\n')).toContain(expected);
  });
});
