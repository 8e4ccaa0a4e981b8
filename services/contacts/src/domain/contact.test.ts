import { DomainError } from '@crm/errors';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NAME_MAX, SEARCH_KEY_FROM, SEARCH_KEY_TO, contactId, contactName, searchKey, searchName } from './contact';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof DomainError ? err.code : 'not a domain error';
  }
  return undefined;
}

describe('contact name', () => {
  it('is trimmed', () => expect(contactName('  Первый  ')).toBe('Первый'));
  it('is null when empty (unknown)', () => {
    expect(contactName('')).toBeNull();
    expect(contactName('   ')).toBeNull();
  });
  it('keeps exactly NAME_MAX characters', () => expect(contactName('x'.repeat(NAME_MAX))).toHaveLength(NAME_MAX));
  it('rejects a longer one as INVALID_ARGUMENT', () => expect(codeOf(() => contactName('x'.repeat(NAME_MAX + 1)))).toBe('INVALID_ARGUMENT'));
});

describe('search name and key', () => {
  it('lower-cases Cyrillic in JavaScript, folds ё and whitespace', () => {
    expect(searchName('  Иван   ПЁТР ')).toBe('иван петр');
    expect(searchName('IVAN')).toBe('ivan');
    expect(searchName(null)).toBeNull();
  });
  it('maps Cyrillic to a Latin key, keeps the rest', () => {
    expect(searchKey('иван петров')).toBe('ivan petrov');
    expect(searchKey('щука объём')).toBe('suka obwem');
    // ъ and ь keep a letter: a query like «щъьэ» still has trigrams for the index (dropped, it had none and scanned every name)
    expect(searchKey('щъьэ')).toBe('swqe');
    expect(searchKey('ivan 42')).toBe('ivan 42');
  });
  it('keeps a substring a substring of the key (the index can only narrow, never lose a match)', () => {
    const name = searchName('Мария-Тереза Щёголева-Ульянова')!;
    for (let i = 0; i < name.length; i += 1) for (let j = i + 1; j <= name.length; j += 1) expect(searchKey(name).includes(searchKey(name.slice(i, j)))).toBe(true);
  });
  it('is the same mapping as the generated column contacts.search_key', () => {
    const sql = readFileSync(join(__dirname, '../db/migrations/contacts_0001_init.ts'), 'utf8');
    expect(sql).toContain(`translate(search_name, '${SEARCH_KEY_FROM}', '${SEARCH_KEY_TO}')`);
  });
});

describe('contact id', () => {
  it('accepts a UUID and lower-cases it', () => expect(contactId('0190A8E2-3C4D-7E5F-8A9B-0C1D2E3F4A5B')).toBe('0190a8e2-3c4d-7e5f-8a9b-0c1d2e3f4a5b'));
  it.each(['', 'abc', '0190a8e2-3c4d-7e5f-8a9b-0c1d2e3f4a5', "' OR 1=1 --"])('rejects %p as INVALID_ARGUMENT', (raw) => expect(codeOf(() => contactId(raw))).toBe('INVALID_ARGUMENT'));
});
