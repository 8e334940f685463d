import { join } from 'node:path';
import { compileSettings, createWindowResolver } from '../../src/knowledge/compile/settings';
import { Problems } from '../../src/knowledge/compile/context';
import { fixtureContext } from './fixtures';

describe('settings compiler', () => {
  test('flattens nested settings so every level is addressable', () => {
    const ctx = fixtureContext({ 'r/settings.yaml': 'settings:\n  renal:\n    crclSevere: 35\n  windows: { creatinine: P90D }\n' });
    const settings = compileSettings(ctx, join(ctx.root, 'r'));
    expect(ctx.problems.list).toEqual([]);
    expect(settings.get('renal.crclSevere')).toBe(35);
    expect(settings.get('windows.creatinine')).toBe('P90D');
    expect(settings.get('renal')).toEqual({ crclSevere: 35 });
  });

  test.each([
    ['an ISO duration', 'P30D', { amount: 30, unit: 'D' }, []],
    ['a setting holding one', { setting: 'windows.creatinine' }, { amount: 90, unit: 'D' }, []],
    ['a missing setting', { setting: 'windows.nope' }, undefined, ["f.yaml: x.window: setting 'windows.nope' is missing or not a duration"]],
    [
      'a setting that is not a duration',
      { setting: 'renal.crclSevere' },
      undefined,
      ["f.yaml: x.window: setting 'renal.crclSevere' is missing or not a duration"],
    ],
  ])('a window given as %s', (_what, ref, expected, problems) => {
    const list = new Problems();
    const window = createWindowResolver(
      list,
      new Map<string, unknown>([
        ['windows.creatinine', 'P90D'],
        ['renal.crclSevere', 35],
      ]),
    );
    const duration = window('f.yaml', 'x.window', ref as never);
    if (expected) expect(duration).toMatchObject(expected);
    else expect(duration).toBeUndefined();
    expect(list.list).toEqual(problems);
  });
});
