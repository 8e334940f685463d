import { loadScenarios as load, type LoadedScenario } from '../../tools/knowledge/scenarios';
import { PROJECT_ROOT } from './catalog';

export type { LoadedScenario };
export const loadScenarios = (): LoadedScenario[] => load(PROJECT_ROOT);
