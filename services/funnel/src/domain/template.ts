/**
 * The pipeline a new tenant starts from (`npm start` gives the demo tenant one): a B2B inbound sale.
 * New → Qualification → Proposal → Negotiation → Won / Lost, a checklist before the proposal, the amount
 * required at negotiation, and the usual reasons to lose.
 */
import { FieldType, StageOutcome, type PipelineDefinition } from '@crm/contracts/crm/funnel/v1/pipelines';

type Words = { name: string; stages: [string, string, string, string, string, string]; reasons: string[]; checklist: [string, string]; field: string };

const WORDS: Record<'ru' | 'en', Words> = {
  ru: {
    name: 'Продажи',
    stages: ['Новая', 'Квалификация', 'Предложение', 'Переговоры', 'Выиграна', 'Проиграна'],
    reasons: ['Дорого', 'Выбрали конкурента', 'Нет бюджета', 'Не отвечает', 'Неактуально'],
    checklist: ['Выяснить потребность и сроки', 'Найти лицо, принимающее решение'],
    field: 'Источник бюджета',
  },
  en: {
    name: 'Sales',
    stages: ['New', 'Qualification', 'Proposal', 'Negotiation', 'Won', 'Lost'],
    reasons: ['Too expensive', 'Chose a competitor', 'No budget', 'Not responding', 'No longer relevant'],
    checklist: ['Learn the need and the timing', 'Find the decision maker'],
    field: 'Budget source',
  },
};

export function defaultPipeline(locale: string): PipelineDefinition {
  const w = WORDS[locale === 'en' ? 'en' : 'ru'];
  const open = StageOutcome.STAGE_OUTCOME_OPEN;
  const noGuard = { requiredFields: [], checklistComplete: false, questionnaireId: '' };
  return {
    name: w.name,
    defaultCurrency: 'RUB',
    lostReasons: w.reasons,
    fields: [{ key: 'budget_source', label: w.field, type: FieldType.FIELD_TYPE_TEXT, options: [] }],
    stages: [
      { key: 'new', name: w.stages[0], outcome: open, to: ['qualification', 'lost'], guard: noGuard, checklist: [], probability: 10 },
      {
        key: 'qualification',
        name: w.stages[1],
        outcome: open,
        to: ['proposal', 'lost'],
        guard: noGuard,
        checklist: [
          { key: 'need', text: w.checklist[0] },
          { key: 'decision_maker', text: w.checklist[1] },
        ],
        probability: 25,
      },
      { key: 'proposal', name: w.stages[2], outcome: open, to: ['negotiation', 'qualification', 'lost'], guard: { ...noGuard, checklistComplete: true }, checklist: [], probability: 50 },
      { key: 'negotiation', name: w.stages[3], outcome: open, to: ['won', 'lost', 'proposal'], guard: { ...noGuard, requiredFields: ['amount'] }, checklist: [], probability: 75 },
      { key: 'won', name: w.stages[4], outcome: StageOutcome.STAGE_OUTCOME_WON, to: [], guard: { ...noGuard, requiredFields: ['amount'] }, checklist: [], probability: 100 },
      { key: 'lost', name: w.stages[5], outcome: StageOutcome.STAGE_OUTCOME_LOST, to: [], guard: noGuard, checklist: [], probability: 0 },
    ],
  };
}
