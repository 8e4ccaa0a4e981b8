/**
 * Unit tests of the board's and the deal page's pure logic (web/src/features/funnel/board.ts; no
 * browser): money in minor units shown and typed, weighted totals, time in a stage in words, the
 * filters in the URL, the optimistic move of a card and its revert, and a refused move in words.
 * Beside web-logic.test.ts for the same reason (Jest's roots do not include web/).
 */
import type { BoardColumn, Deal, Pipeline, Stage } from '../../web/src/features/funnel/api';
import {
  allowedTargets,
  amountInput,
  boardHref,
  boardQueryOf,
  fieldValue,
  formatMoney,
  humanDuration,
  minorDigits,
  moveCard,
  parseAmount,
  refusalOf,
  refusalText,
  weightedTotals,
  type RefusalWords,
} from '../../web/src/features/funnel/board';

const stage = (key: string, outcome: Stage['outcome'], to: string[], extra: Partial<Stage> = {}): Stage => ({
  key,
  name: key.toUpperCase(),
  outcome,
  to,
  guard: { required_fields: [], checklist_complete: false },
  checklist: [],
  probability: 0,
  ...extra,
});

const pipeline: Pipeline = {
  id: 'p1',
  version: 1,
  name: 'Sales',
  stages: [
    stage('new', 'open', ['qualified', 'lost']),
    stage('qualified', 'open', ['won', 'lost'], { checklist: [{ key: 'kp', text: 'Send the offer' }], probability: 40 }),
    stage('won', 'won', [], { guard: { required_fields: [], checklist_complete: true } }),
    stage('lost', 'lost', []),
  ],
  lost_reasons: ['Too expensive'],
  fields: [{ key: 'inn', label: 'INN', type: 'text', options: [] }],
  default_currency: 'RUB',
  archived: false,
  deals_on_old_versions: 0,
  created_at: '',
  updated_at: '',
  updated_by: null,
};

const deal = (id: string, stageKey: string, amount: number, currency = 'RUB'): Deal =>
  ({ id, title: id, amount_minor: amount, currency, stage: stageKey, stage_name: stageKey, state: 'open', version: 1 }) as Deal;

const column = (key: string, items: Deal[]): BoardColumn => {
  const totals = new Map<string, number>();
  for (const d of items) totals.set(d.currency, (totals.get(d.currency) ?? 0) + d.amount_minor);
  return { stage: key, name: key.toUpperCase(), outcome: key === 'won' ? 'won' : key === 'lost' ? 'lost' : 'open', count: items.length, totals: [...totals].map(([currency, amount_minor]) => ({ currency, amount_minor })), items, next_cursor: null };
};

const words: RefusalWords = {
  allowed: (n) => `allowed: ${n}`,
  noneAllowed: 'nowhere',
  missingFields: (n) => `fields: ${n}`,
  missingChecklist: (n) => `checklist: ${n}`,
  builtin: (k) => (k === 'amount' ? 'Amount' : undefined),
};

describe('money', () => {
  it('knows each currency’s minor digits and formats minor units in the UI language', () => {
    expect(minorDigits('RUB')).toBe(2);
    expect(minorDigits('JPY')).toBe(0);
    expect(formatMoney(150_050, 'USD', 'en-GB')).toBe('US$1,500.50');
    expect(formatMoney(150_050, 'RUB', 'ru-RU').replace(/\s/g, ' ')).toBe('1 500,50 ₽');
    expect(formatMoney(1500, 'JPY', 'en-GB')).toBe('JP¥1,500');
  });

  it('reads amounts typed either way, refusing what is not one', () => {
    expect(parseAmount('1 500,50', 'RUB')).toBe(150_050);
    expect(parseAmount('1,500.5', 'USD')).toBe(150_050);
    expect(parseAmount('1500', 'RUB')).toBe(150_000);
    expect(parseAmount('1500', 'JPY')).toBe(1500);
    expect(parseAmount('1500.5', 'JPY')).toBeNull();
    // The last separator is the decimal one: "1,005" is 1.005, too many digits for roubles.
    expect(parseAmount('1,005', 'RUB')).toBeNull();
  });

  it('refuses negatives, words, too many fraction digits and more than 10^15 minor units', () => {
    expect(parseAmount('-5', 'RUB')).toBeNull();
    expect(parseAmount('abc', 'RUB')).toBeNull();
    expect(parseAmount('1.234', 'RUB')).toBeNull();
    expect(parseAmount('', 'RUB')).toBeNull();
    expect(parseAmount('10000000000000.01', 'RUB')).toBeNull();
    expect(parseAmount('10000000000000', 'RUB')).toBe(1e15);
    expect(amountInput(150_050, 'RUB')).toBe('1500.50');
    expect(amountInput(7, 'JPY')).toBe('7');
  });

  it('weights totals by the stage probability only when one is set', () => {
    expect(weightedTotals([{ currency: 'RUB', amount_minor: 1000 }], 40)).toEqual([{ currency: 'RUB', amount_minor: 400 }]);
    expect(weightedTotals([{ currency: 'RUB', amount_minor: 1000 }], 0)).toBeNull();
    expect(weightedTotals([{ currency: 'RUB', amount_minor: 1000 }], 100)).toBeNull();
  });
});

describe('time in a stage', () => {
  it('says the two largest units in each language', () => {
    expect(humanDuration(30, 'en')).toBe('< 1 min');
    expect(humanDuration(125, 'en')).toBe('2 min');
    expect(humanDuration(3 * 3600 + 5 * 60, 'en')).toBe('3 h 5 min');
    expect(humanDuration(2 * 86400 + 4 * 3600 + 59, 'ru')).toBe('2 д 4 ч');
    expect(humanDuration(86400, 'ru')).toBe('1 д');
  });
});

describe('the board in the URL', () => {
  it('keeps the pipeline and the filters in the query and back', () => {
    const href = boardHref({ pipeline: 'p1', owner_id: 'u1', sales_channel: 'agents' });
    expect(href).toBe('/deals?pipeline=p1&owner=u1&channel=agents');
    expect(boardQueryOf(new URL(href, 'http://x').searchParams)).toEqual({ pipeline: 'p1', owner_id: 'u1', department_id: undefined, sales_channel: 'agents' });
    expect(boardHref({})).toBe('/deals');
  });
});

describe('moving a card', () => {
  const cols = [column('new', [deal('a', 'new', 1000), deal('b', 'new', 500, 'USD')]), column('qualified', [deal('c', 'qualified', 200)]), column('won', []), column('lost', [])];

  it('moves it on top of the target, counts and totals following, and back again unchanged', () => {
    const moved = moveCard(cols, 'a', 'qualified');
    expect(moved[0].items.map((d) => d.id)).toEqual(['b']);
    expect(moved[0].count).toBe(1);
    expect(moved[0].totals).toEqual([{ currency: 'USD', amount_minor: 500 }]);
    expect(moved[1].items.map((d) => d.id)).toEqual(['a', 'c']);
    expect(moved[1].items[0].stage).toBe('qualified');
    expect(moved[1].count).toBe(2);
    expect(moved[1].totals).toEqual([{ currency: 'RUB', amount_minor: 1200 }]);
    const back = moveCard(moved, 'a', 'new', cols[0].items[0]);
    expect(back[0].count).toBe(2);
    expect(back[0].items[0]).toBe(cols[0].items[0]);
    expect(back[1]).toEqual(cols[1]);
  });

  it('adds a currency the target did not have; leaves the board alone for an unknown deal or the same column', () => {
    const moved = moveCard(cols, 'b', 'won');
    expect(moved[2].totals).toEqual([{ currency: 'USD', amount_minor: 500 }]);
    expect(moveCard(cols, 'zzz', 'won')).toBe(cols);
    expect(moveCard(cols, 'a', 'new')).toBe(cols);
  });

  it('offers the stages the definition allows, in board order', () => {
    expect(allowedTargets(pipeline, 'new').map((s) => s.key)).toEqual(['qualified', 'lost']);
    expect(allowedTargets(pipeline, 'won')).toEqual([]);
    expect(allowedTargets(pipeline, 'nope')).toEqual([]);
  });
});

describe('a refused move in words', () => {
  it('names the allowed stages (the detail kept apart)', () => {
    const r = refusalOf({ status: 409, title: 'Conflict', detail: 'The move from new to won is not allowed', code: 'FAILED_PRECONDITION', stage: 'new', allowed: ['qualified', 'lost'] });
    expect(r.detail).toBe('The move from new to won is not allowed');
    expect(refusalText(r, pipeline, 'new', words)).toBe('allowed: QUALIFIED, LOST');
    expect(refusalText(refusalOf({ detail: 'No.', allowed: [] }), pipeline, 'won', words)).toBe('nowhere');
    expect(refusalText(refusalOf({ detail: 'Stale' }), pipeline, 'new', words)).toBe('');
  });

  it('names the unticked checklist items of the stage left, and the missing fields by label', () => {
    const r = refusalOf({ detail: 'The checklist is not complete', stage: 'won', guard: 'checklist_complete', missing: ['kp'] });
    expect(refusalText(r, pipeline, 'qualified', words)).toBe('checklist: Send the offer');
    const f = refusalOf({ detail: 'Fields are missing', stage: 'won', guard: 'required_fields', missing: ['amount', 'inn', 'other'] });
    expect(refusalText(f, pipeline, 'qualified', words)).toBe('fields: Amount, INN, other');
  });

  it('ignores what is not a refusal', () => {
    expect(refusalOf({ title: 'Bad Request', allowed: 'x', missing: [1, 'a'] })).toEqual({ detail: 'Bad Request', stage: undefined, allowed: undefined, guard: undefined, missing: ['a'] });
  });
});

describe('custom field values', () => {
  it('canonicalises each type and names what is wrong', () => {
    expect(fieldValue('number', '12,5')).toEqual({ value: '12.5' });
    expect(fieldValue('number', '12a')).toEqual({ error: 'number' });
    expect(fieldValue('integer', '7')).toEqual({ value: '7' });
    expect(fieldValue('integer', '7.1')).toEqual({ error: 'integer' });
    expect(fieldValue('date', '2026-12-01')).toEqual({ value: '2026-12-01' });
    expect(fieldValue('date', '01.12.2026')).toEqual({ error: 'date' });
    expect(fieldValue('enum', 'b', ['a', 'b'])).toEqual({ value: 'b' });
    expect(fieldValue('enum', 'c', ['a', 'b'])).toEqual({ error: 'option' });
    expect(fieldValue('boolean', 'true')).toEqual({ value: 'true' });
    expect(fieldValue('text', '  hi ')).toEqual({ value: 'hi' });
    expect(fieldValue('text', '')).toEqual({ value: '' });
  });
});
