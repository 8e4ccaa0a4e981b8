/**
 * Reading a (valid) pipeline definition: its stages, where a deal may go from a stage. Pure; the
 * validation that makes a definition valid is ./validate.ts.
 */
import { StageOutcome, type PipelineDefinition, type StageDefinition } from '@crm/contracts/crm/funnel/v1/pipelines';

export type Outcome = 'open' | 'won' | 'lost';

export const OUTCOME: Partial<Record<StageOutcome, Outcome>> = {
  [StageOutcome.STAGE_OUTCOME_OPEN]: 'open',
  [StageOutcome.STAGE_OUTCOME_WON]: 'won',
  [StageOutcome.STAGE_OUTCOME_LOST]: 'lost',
};

export function findStage(def: PipelineDefinition, key: string): StageDefinition | undefined {
  return def.stages.find((s) => s.key === key);
}

/** The stage new deals start at (a valid definition's first stage is open). */
export function firstStage(def: PipelineDefinition): StageDefinition {
  return def.stages[0]!;
}

export function outcomeOf(stage: StageDefinition): Outcome {
  return OUTCOME[stage.outcome] ?? 'open';
}

/** The keys a deal at `from` may move to (empty for a terminal or an unknown stage). */
export function allowedTargets(def: PipelineDefinition, from: string): string[] {
  return findStage(def, from)?.to ?? [];
}
