import { join } from '../knowledge-files';
import { parseDuration, type Duration } from '../../fhir/dates';
import type { WindowRef } from '../../schemas/fact-mapping';
import { SettingsFileSchema } from '../../schemas/rule';
import type { CompileContext, Problems } from './context';

/** rules/settings.yaml, flattened: `renal.crclSevere` → its value (every level is addressable). */
export function compileSettings(ctx: CompileContext, rulesDir: string): Map<string, unknown> {
  const file = ctx.read<{ settings: Record<string, unknown> }>(join(rulesDir, 'settings.yaml'), SettingsFileSchema);
  const settings = new Map<string, unknown>();
  const flatten = (prefix: string, value: unknown) => {
    if (prefix) settings.set(prefix, value);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(value)) flatten(prefix ? `${prefix}.${key}` : key, child);
    }
  };
  flatten('', file?.settings ?? {});
  return settings;
}

/** Resolves a window (an ISO duration, or a setting holding one) to a Duration. */
export type WindowResolver = (file: string, field: string, ref: WindowRef | undefined) => Duration | undefined;

export function createWindowResolver(problems: Problems, settings: ReadonlyMap<string, unknown>): WindowResolver {
  return (file, field, ref) => {
    if (ref === undefined) return undefined;
    const text = typeof ref === 'string' ? ref : settings.get(ref.setting);
    if (typeof text !== 'string') {
      problems.add(file, field, `setting '${typeof ref === 'string' ? ref : ref.setting}' is missing or not a duration`);
      return undefined;
    }
    try {
      return parseDuration(text);
    } catch (error) {
      problems.add(file, field, (error as Error).message);
      return undefined;
    }
  };
}
