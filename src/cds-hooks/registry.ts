import type { HookModule } from './hook-module';
import { orderSelect } from './order-select';
import { orderSign } from './order-sign';
import { patientView } from './patient-view';

const modules = new Map<string, HookModule>([patientView, orderSelect, orderSign].map((m) => [m.name, m]));

/** The module for a hook name, if the service knows that hook. */
export function hookModuleFor(name: string): HookModule | undefined {
  return modules.get(name);
}

export function knownHookNames(): string[] {
  return [...modules.keys()];
}

/**
 * Adds a hook before the knowledge is loaded (a deployment's own hook, or a test's). A name already
 * known is refused: one hook has one module.
 */
export function registerHookModule(module: HookModule): void {
  if (modules.has(module.name)) throw new TypeError(`[hooks] hook '${module.name}' is already registered`);
  modules.set(module.name, module);
}
