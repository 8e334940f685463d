import { join } from 'node:path';
import { Problems } from '../../src/knowledge/compile/context';
import { checkSeedCoverage, readEvidence, readSeedStatements } from '../../src/knowledge/compile/evidence';
import { fixtureContext } from './fixtures';

describe('evidence and seed statement compiler', () => {
  test('a missing evidence file is a problem, and no evidence is assumed', () => {
    const ctx = fixtureContext({});
    expect(readEvidence(ctx, join(ctx.root, 'rules'))).toEqual({});
    expect(ctx.problems.list).toEqual(['rules/evidence.yaml: (file): cannot be read']);
  });

  test('every seed statement is implemented by a rule or says why none is', () => {
    const ctx = fixtureContext({
      'rules/seed-statements.yaml': [
        'document: test',
        'statements:',
        '  SEED-1: { text: Give it }',
        '  SEED-2: { text: Explain it, noRuleBecause: documentation only }',
        '  SEED-3: { text: Forgotten }',
        '',
      ].join('\n'),
    });
    const seed = readSeedStatements(ctx, join(ctx.root, 'rules'));
    expect(ctx.problems.list).toEqual([]);
    const problems = new Problems();
    checkSeedCoverage(problems, seed, new Set(['SEED-1']));
    expect(problems.list).toEqual(['rules/seed-statements.yaml: statements.SEED-3: no rule implements it and noRuleBecause is not given']);
  });
});
