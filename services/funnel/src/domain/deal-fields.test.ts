import { SalesChannel } from '@crm/contracts/crm/funnel/v1/deals';
import { FieldType, StageOutcome, type PipelineDefinition } from '@crm/contracts/crm/funnel/v1/pipelines';
import { isDomainError } from '@crm/errors';
import {
  BUILTIN_PRESENT,
  canonicalValue,
  channelOf,
  channelWord,
  CHANNEL_WORDS,
  closeDate,
  customFields,
  dealTitle,
  freeText,
  isRealDate,
  missingFields,
  type GuardedDeal,
} from './deal-fields';
import { GUARD_FIELDS } from './validate';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isDomainError(err) ? err.code : 'not a domain error';
  }
};

const def: PipelineDefinition = {
  name: 'P',
  defaultCurrency: 'RUB',
  lostReasons: ['Price'],
  fields: [
    { key: 'budget', label: 'Budget', type: FieldType.FIELD_TYPE_NUMBER, options: [] },
    { key: 'seats', label: 'Seats', type: FieldType.FIELD_TYPE_INTEGER, options: [] },
    { key: 'tier', label: 'Tier', type: FieldType.FIELD_TYPE_ENUM, options: ['gold', 'silver'] },
    { key: 'note', label: 'Note', type: FieldType.FIELD_TYPE_TEXT, options: [] },
  ],
  stages: [
    {
      key: 'new',
      name: 'New',
      outcome: StageOutcome.STAGE_OUTCOME_OPEN,
      to: ['won'],
      guard: { requiredFields: ['amount', 'client_card_id', 'contact_ids', 'tier', 'seats'], checklistComplete: false, questionnaireId: '' },
      checklist: [],
      probability: 0,
    },
  ],
};

const bare: GuardedDeal = {
  amount_minor: '0',
  expected_close_date: null,
  client_card_id: null,
  company_id: null,
  owner_id: null,
  department_id: null,
  project_id: null,
  sales_channel: null,
  contact_ids: [],
  custom_fields: {},
};

describe('deal fields', () => {
  it('titles: trimmed, 1..200, one line', () => {
    expect(dealTitle('  Поставка  ')).toBe('Поставка');
    for (const bad of ['', '   ', 'x'.repeat(201), 'a\nb', 'a\u0000b']) expect(code(() => dealTitle(bad))).toBe('INVALID_ARGUMENT');
    expect(dealTitle('x'.repeat(200))).toHaveLength(200);
    expect(freeText('comment', ' two\nlines ', 500)).toBe('two\nlines');
    expect(freeText('comment', '', 500)).toBeNull();
    expect(code(() => freeText('comment', 'x'.repeat(501), 500))).toBe('INVALID_ARGUMENT');
  });

  it('dates are real days', () => {
    expect(isRealDate('2024-02-29')).toBe(true);
    for (const bad of ['2023-02-29', '2024-13-01', '2024-00-10', '2024-04-31', '24-01-01', '2024-1-1', '1800-01-01', '2024-01-01T00:00:00Z']) expect(isRealDate(bad)).toBe(false);
    expect(closeDate('')).toBeNull();
    expect(closeDate('2030-12-31')).toBe('2030-12-31');
    expect(code(() => closeDate('2030-02-30'))).toBe('INVALID_ARGUMENT');
  });

  it('sales channels map both ways, every word once', () => {
    expect(CHANNEL_WORDS).toHaveLength(5);
    for (const w of CHANNEL_WORDS) expect(channelWord(channelOf(w))).toBe(w);
    expect(channelWord(SalesChannel.SALES_CHANNEL_UNSPECIFIED)).toBeNull();
    expect(channelOf(null)).toBe(SalesChannel.SALES_CHANNEL_UNSPECIFIED);
    expect(code(() => channelWord(42 as SalesChannel))).toBe('INVALID_ARGUMENT');
  });

  it('custom values take their canonical forms', () => {
    const ok = (t: FieldType, raw: string, opts: string[] = []) => (canonicalValue(t, opts, raw) as { value: string }).value;
    expect(ok(FieldType.FIELD_TYPE_NUMBER, ' 12.50 ')).toBe('12.5');
    expect(ok(FieldType.FIELD_TYPE_NUMBER, '-0.00')).toBe('0');
    expect(ok(FieldType.FIELD_TYPE_NUMBER, '7')).toBe('7');
    expect(ok(FieldType.FIELD_TYPE_INTEGER, '-0')).toBe('0');
    expect(ok(FieldType.FIELD_TYPE_BOOLEAN, 'TRUE')).toBe('true');
    expect(ok(FieldType.FIELD_TYPE_DATE, '2025-01-31')).toBe('2025-01-31');
    expect(ok(FieldType.FIELD_TYPE_ENUM, 'gold', ['gold'])).toBe('gold');
    for (const [t, raw] of [
      [FieldType.FIELD_TYPE_NUMBER, '1e5'],
      [FieldType.FIELD_TYPE_NUMBER, '12,5'],
      [FieldType.FIELD_TYPE_NUMBER, '007'],
      [FieldType.FIELD_TYPE_INTEGER, '1.0'],
      [FieldType.FIELD_TYPE_BOOLEAN, 'yes'],
      [FieldType.FIELD_TYPE_DATE, '2025-02-30'],
      [FieldType.FIELD_TYPE_ENUM, 'Gold'],
      [FieldType.FIELD_TYPE_TEXT, 'x'.repeat(1001)],
      [FieldType.FIELD_TYPE_UNSPECIFIED, 'x'],
    ] as const) {
      expect('error' in canonicalValue(t, ['gold'], raw)).toBe(true);
    }
  });

  it('custom fields: unknown keys and bad values are refused all at once; "" removes on update', () => {
    expect(customFields(def, { budget: '10.0', tier: 'gold' })).toEqual({ budget: '10', tier: 'gold' });
    expect(customFields(def, { note: '' }, { allowEmpty: true })).toEqual({ note: null });
    try {
      customFields(def, { nope: '1', seats: 'many' });
      throw new Error('accepted');
    } catch (err) {
      expect(isDomainError(err) && err.violations.map((v) => v.field)).toEqual(['custom_fields.nope', 'custom_fields.seats']);
    }
  });

  it('guards find the missing fields, built-in and custom, in the guard’s order', () => {
    const stage = def.stages[0]!;
    expect(missingFields(def, stage, bare)).toEqual(['amount', 'client_card_id', 'contact_ids', 'tier', 'seats']);
    const full: GuardedDeal = { ...bare, amount_minor: '100', client_card_id: 'c', contact_ids: ['x'], custom_fields: { tier: 'gold', seats: '3' } };
    expect(missingFields(def, stage, full)).toEqual([]);
  });

  it('knows exactly the built-ins the pipeline validation lets a guard name', () => {
    expect(Object.keys(BUILTIN_PRESENT).sort()).toEqual([...GUARD_FIELDS].sort());
  });
});
