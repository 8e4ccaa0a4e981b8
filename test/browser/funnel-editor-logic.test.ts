/**
 * Unit tests of the pipeline editor's pure model (web/src/features/funnel/editor-model.ts): keys made from
 * Russian and English names, the definition sent (moves by key, locked keys kept, what the schema would
 * refuse left out and reported locally), each violation placed next to its field, the template, and
 * amounts typed in major units.
 */
import type { Pipeline } from '../../web/src/features/funnel/editor-api';
import {
  emptyDraft,
  fromPipeline,
  localViolations,
  newStage,
  parseAmount,
  placeViolations,
  slotsOf,
  slug,
  templateDraft,
  toDefinition,
  uniqueKey,
  withKeys,
  type Draft,
} from '../../web/src/features/funnel/editor-model';
import { editorEn, editorRu } from '../../web/src/features/funnel/i18n-editor';
import { VIOLATION_CODES } from '../../web/src/features/funnel/editor-model';

describe('keys from names', () => {
  it('transliterates Russian, keeps latin, and starts with a letter', () => {
    expect(slug('Квалификация')).toBe('kvalifikatsiya');
    expect(slug('Счёт выставлен!')).toBe('schet_vystavlen');
    expect(slug('Won deal')).toBe('won_deal');
    expect(slug('2nd call')).toBe('s_2nd_call');
    expect(slug('   ')).toBe('');
    expect(slug('Ж'.repeat(60))).toMatch(/^[a-z][a-z0-9_]{0,39}$/);
  });

  it('makes a key unique with a suffix, and falls back for a name with no letters', () => {
    expect(uniqueKey('Новая', ['novaya'], 'stage_1')).toBe('novaya_2');
    expect(uniqueKey('Новая', ['novaya', 'novaya_2'], 'stage_1')).toBe('novaya_3');
    expect(uniqueKey('!!!', [], 'stage_4')).toBe('stage_4');
  });

  it('re-derives only the keys that follow their names', () => {
    const d = withKeys({ ...emptyDraft(), stages: [newStage('Новая', 'open'), newStage('Новая'), { ...newStage('Итог'), key: 'done', keyEdited: true }] });
    expect(d.stages.map((s) => s.key)).toEqual(['novaya', 'novaya_2', 'done']);
  });
});

describe('the definition sent', () => {
  it('sends moves by key in board order, drops a terminal outcome-less stage’s outcome, and parses options', () => {
    const a = newStage('Старт', 'open');
    const b = newStage('Конец');
    const c = newStage('Готово', 'won');
    a.to = [c.uid, b.uid];
    const d: Draft = withKeys({ name: ' Воронка ', default_currency: 'usd', stages: [a, b, c], lost_reasons: [], fields: [{ uid: 'f', key: '', keyLocked: false, keyEdited: false, label: 'Размер', type: 'enum', options: 'S\n\n M \nL' }] });
    const def = toDefinition(withKeys(d));
    expect(def.name).toBe('Воронка');
    expect(def.default_currency).toBe('USD');
    expect(def.stages[0].to).toEqual(['konets', 'gotovo']);
    expect(def.stages[1]).not.toHaveProperty('outcome');
    expect(def.fields[0]).toEqual({ key: 'razmer', label: 'Размер', type: 'enum', options: ['S', 'M', 'L'] });
  });

  it('reports a currency and a probability the schema would refuse, and leaves them out', () => {
    const d = emptyDraft();
    d.default_currency = 'RU';
    d.stages[0].probability = '150';
    expect(localViolations(d).map((v) => `${v.field}:${v.code}`)).toEqual(['default_currency:unknown_currency', 'stages[0].probability:invalid']);
    const def = toDefinition(d);
    expect(def).not.toHaveProperty('default_currency');
    expect(def.stages[0]).not.toHaveProperty('probability');
    expect(localViolations(templateDraft('ru'))).toEqual([]);
  });

  it('round-trips a stored pipeline with its keys locked', () => {
    const t = toDefinition(templateDraft('en'));
    const stored: Pipeline = { ...t, default_currency: 'RUB', id: 'p', version: 2, archived: false, deals_on_old_versions: 0, created_at: '', updated_at: '', updated_by: null };
    const d = fromPipeline(stored);
    expect(d.stages.every((s) => s.keyLocked)).toBe(true);
    expect(toDefinition(withKeys({ ...d, stages: d.stages.map((s) => ({ ...s, name: `${s.name}!` })) })).stages.map((s) => s.key)).toEqual(t.stages.map((s) => s.key));
    expect(toDefinition(d)).toEqual(t);
  });
});

describe('the template', () => {
  it('is New → Qualification → Proposal → Negotiation → Won / Lost with lost reasons and a checklist, in both languages', () => {
    const ru = toDefinition(templateDraft('ru'));
    const en = toDefinition(templateDraft('en'));
    expect(ru.stages.map((s) => s.name)).toEqual(['Новая', 'Квалификация', 'Предложение', 'Переговоры', 'Выиграна', 'Проиграна']);
    expect(en.stages.map((s) => s.key)).toEqual(ru.stages.map((s) => s.key));
    expect(ru.stages.map((s) => s.outcome)).toEqual(['open', 'open', 'open', 'open', 'won', 'lost']);
    expect(ru.stages[1].checklist.length).toBe(2);
    expect(ru.stages[2].guard.checklist_complete).toBe(true);
    expect(ru.lost_reasons.length).toBeGreaterThan(0);
    expect(ru.stages[3].to).toEqual(['proposal', 'won', 'lost']);
  });
});

describe('violations next to their fields', () => {
  it('places each path at its longest known prefix, camelCase or not; the rest above the form', () => {
    const d = templateDraft('ru');
    const placed = placeViolations(
      [
        { field: 'stages[2].to[0]', code: 'unknown_stage', message: '' },
        { field: 'stages[5]', code: 'unreachable', message: '' },
        { field: 'stages[1].guard.required_fields[0]', code: 'unknown_field', message: '' },
        { field: 'lostReasons', code: 'no_lost_reasons', message: '' },
        { field: 'stages[1].checklist[1].key', code: 'duplicate_key', message: '' },
        { field: 'whatever', code: 'invalid', message: '' },
      ],
      slotsOf(d),
    );
    expect([...placed.keys()].sort()).toEqual(['', 'lost_reasons', 'stages[1].checklist[1]', 'stages[1].guard', 'stages[2].to', 'stages[5]'].sort());
    expect(placed.get('')?.[0].code).toBe('invalid');
  });

  it('has a Russian and an English text for every violation code', () => {
    for (const code of VIOLATION_CODES) {
      const key = `funnel.editor.violation.${code}` as keyof typeof editorRu;
      expect(editorRu[key]).toBeTruthy();
      expect(editorEn[key]).toBeTruthy();
    }
  });
});

describe('amounts in major units', () => {
  it('accepts digits with at most two decimals and sends integer minor units', () => {
    expect(parseAmount('')).toEqual({ ok: true, minor: undefined });
    expect(parseAmount('150000')).toEqual({ ok: true, minor: 15_000_000 });
    expect(parseAmount('1 500,5')).toEqual({ ok: true, minor: 150_050 });
    expect(parseAmount('0.07')).toEqual({ ok: true, minor: 7 });
    expect(parseAmount('10000000000000')).toEqual({ ok: true, minor: 1_000_000_000_000_000 });
    expect(parseAmount('1500', 0)).toEqual({ ok: true, minor: 1500 });
  });

  it('refuses what is not an amount', () => {
    expect(parseAmount('1.234')).toEqual({ ok: false, error: 'decimals' });
    expect(parseAmount('-5')).toEqual({ ok: false, error: 'format' });
    expect(parseAmount('1e5')).toEqual({ ok: false, error: 'format' });
    expect(parseAmount('12,')).toEqual({ ok: false, error: 'format' });
    expect(parseAmount('10000000000000.01')).toEqual({ ok: false, error: 'tooLarge' });
    expect(parseAmount('99999999999999999999')).toEqual({ ok: false, error: 'tooLarge' });
  });
});
