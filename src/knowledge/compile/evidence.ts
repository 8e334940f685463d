import { join } from '../knowledge-files';
import {
  EvidenceFileSchema,
  OverrideReasonsFileSchema,
  SeedStatementsFileSchema,
  type EvidenceFile,
  type OverrideReasonsFile,
  type SeedStatementsFile,
} from '../../schemas/rule';
import type { CompileContext, Problems } from './context';

/** rules/evidence.yaml: the citations cards link to. */
export function readEvidence(ctx: CompileContext, rulesDir: string): EvidenceFile['evidence'] {
  return ctx.read<EvidenceFile>(join(rulesDir, 'evidence.yaml'), EvidenceFileSchema)?.evidence ?? {};
}

/** rules/override-reasons.yaml: the reasons a clinician may give for overriding a card. */
export function readOverrideReasons(ctx: CompileContext, rulesDir: string): OverrideReasonsFile {
  return ctx.read<OverrideReasonsFile>(join(rulesDir, 'override-reasons.yaml'), OverrideReasonsFileSchema) ?? { system: 'urn:invalid', reasons: {} };
}

/** rules/seed-statements.yaml: the clinical statements every rule traces back to. */
export function readSeedStatements(ctx: CompileContext, rulesDir: string): SeedStatementsFile {
  return ctx.read<SeedStatementsFile>(join(rulesDir, 'seed-statements.yaml'), SeedStatementsFileSchema) ?? { document: '', statements: {} };
}

/** Every seed statement is implemented by a rule or says why none does. */
export function checkSeedCoverage(problems: Problems, seed: SeedStatementsFile, implemented: ReadonlySet<string>): void {
  for (const [id, statement] of Object.entries(seed.statements)) {
    if (!implemented.has(id) && !statement.noRuleBecause)
      problems.add('rules/seed-statements.yaml', `statements.${id}`, 'no rule implements it and noRuleBecause is not given');
  }
}
