/**
 * Unit tests of the contacts pages' pure logic (no browser): the import mapping draft kept in
 * sessionStorage, the mapping sent to the API, and how a point is shown. Beside web-logic.test.ts for
 * the same reason (Jest's roots do not include web/ yet).
 */
import { isContact, exportUrl, ownerOf, type ClientCard, type Contact } from '../../web/src/features/contacts/api';
import { dropDraft, fieldsFor, loadDraft, mappingOf, mappingProblem, saveDraft, type ImportDraft } from '../../web/src/features/contacts/import-draft';
import { pointText } from '../../web/src/features/contacts/format';

class MemoryStorage {
  readonly data = new Map<string, string>();
  getItem(k: string): string | null {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.data.set(k, v);
  }
  removeItem(k: string): void {
    this.data.delete(k);
  }
}

describe('the import mapping draft', () => {
  const draft: ImportDraft = { encoding: 'windows-1251', delimiter: ';', hasHeader: true, fields: ['name', 'phone', 'ignore'] };

  it('round-trips through storage, per import', () => {
    const s = new MemoryStorage();
    saveDraft(s, 'imp-1', draft);
    expect(loadDraft(s, 'imp-1')).toEqual(draft);
    expect(loadDraft(s, 'imp-2')).toBeNull();
    dropDraft(s, 'imp-1');
    expect(loadDraft(s, 'imp-1')).toBeNull();
  });

  it('ignores what it cannot trust: broken JSON, unknown fields, encodings and delimiters', () => {
    const s = new MemoryStorage();
    s.setItem('crm.import.draft.x', '{not json');
    expect(loadDraft(s, 'x')).toBeNull();
    s.setItem('crm.import.draft.x', JSON.stringify({ encoding: 'koi8-r', delimiter: '|', hasHeader: false, fields: ['phone', 'password', 42] }));
    expect(loadDraft(s, 'x')).toEqual({ encoding: '', delimiter: '', hasHeader: false, fields: ['phone', 'ignore', 'ignore'] });
    s.setItem('crm.import.draft.x', JSON.stringify({ fields: 'phone' }));
    expect(loadDraft(s, 'x')).toBeNull();
  });

  it('survives storage that throws (private mode) and no storage at all', () => {
    const throwing = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
    };
    expect(() => saveDraft(throwing, 'a', draft)).not.toThrow();
    expect(loadDraft(throwing, 'a')).toBeNull();
    expect(loadDraft(undefined, 'a')).toBeNull();
  });

  it('fills one field per column: the draft over the suggestion over "ignore"', () => {
    const suggested = [
      { column: 0, field: 'name' as const },
      { column: 1, field: 'phone' as const },
      { column: 7, field: 'email' as const },
    ];
    expect(fieldsFor(3, suggested, null)).toEqual(['name', 'phone', 'ignore']);
    expect(fieldsFor(3, suggested, { ...draft, fields: ['last_name'] })).toEqual(['last_name', 'phone', 'ignore']);
    expect(fieldsFor(0, suggested, draft)).toEqual([]);
  });

  it('sends only the mapped columns and refuses a mapping without a contact point or with a field twice', () => {
    expect(mappingOf(['name', 'ignore', 'phone'])).toEqual([
      { column: 0, field: 'name' },
      { column: 2, field: 'phone' },
    ]);
    expect(mappingProblem(['name', 'company'])).toBe('no_point');
    expect(mappingProblem(['name', 'name', 'phone'])).toBe('twice');
    // Several phone columns are fine (a person may have two numbers).
    expect(mappingProblem(['name', 'phone', 'phone'])).toBeNull();
    expect(mappingProblem(['ignore', 'telegram'])).toBeNull();
  });
});

describe('contacts helpers', () => {
  it('shows a social point without its network prefix, and phones and e-mails as stored', () => {
    expect(pointText({ type: 'social', value: 'telegram:ivan_petrov', network: 'telegram' })).toBe('ivan_petrov');
    expect(pointText({ type: 'social', value: 'vk:12345', network: 'telegram' })).toBe('vk:12345');
    expect(pointText({ type: 'phone', value: '+79991234567', network: '' })).toBe('+79991234567');
  });

  it("reads the owner a 409 names, and tells a base's contacts from its cards", () => {
    expect(ownerOf({ status: 409, owner_contact_id: '0190a1b2-0000-7000-8000-000000000001' })).toBe('0190a1b2-0000-7000-8000-000000000001');
    expect(ownerOf({ status: 409 })).toBe('');
    expect(isContact({ id: 'c', points: [] } as unknown as Contact)).toBe(true);
    expect(isContact({ id: 'k', state: 'former' } as unknown as ClientCard)).toBe(false);
  });

  it('builds export links with the search', () => {
    expect(exportUrl('contacts')).toBe('/v1/exports/contacts.csv');
    expect(exportUrl('cold', ' Иван ')).toBe('/v1/exports/cold.csv?query=%D0%98%D0%B2%D0%B0%D0%BD');
  });
});
