import { DomainError } from '@crm/errors';
import { escapeLike, likeContains, parseSearch, QUERY_MAX } from './search';

describe('parseSearch', () => {
  it('is null for an empty query', () => {
    expect(parseSearch('', 'RU')).toBeNull();
    expect(parseSearch('   ', 'RU')).toBeNull();
  });
  it('reads words as a name and a point value, Cyrillic lower-cased', () => {
    expect(parseSearch('  Иван ', 'RU')).toEqual({ name: 'иван', key: 'ivan', value: null, phone: null, digits: [] });
    expect(parseSearch('Ivan_P', 'RU')).toEqual({ name: 'ivan_p', key: 'ivan_p', value: 'ivan_p', phone: null, digits: [] });
    expect(parseSearch('иван@пример.рф', 'RU')!.value).toBe('иван@пример.рф');
    expect(parseSearch('iv', 'RU')!.value).toBeNull();
    expect(parseSearch('ivan petrov', 'RU')!.value).toBeNull();
    expect(parseSearch('Ivan.Petrov@Example.com', 'RU')).toMatchObject({ value: 'ivan.petrov@example.com', phone: null, digits: [] });
  });
  it('reads a whole phone however typed as that phone and its digits', () => {
    for (const q of ['+7 999 123-45-67', '8 (999) 123 45 67', '89991234567']) {
      const s = parseSearch(q, 'RU')!;
      expect(s.phone).toBe('+79991234567');
      expect(s.digits).toContain('79991234567');
      expect(s.value).toBeNull();
    }
  });
  it('reads a part of a phone as digits (≥ 4), also with 8 read as 7 in RU', () => {
    expect(parseSearch('123-45', 'RU')).toMatchObject({ phone: null, digits: ['12345'], value: null });
    expect(parseSearch('1234', 'RU')).toMatchObject({ phone: null, digits: ['1234'], value: null });
    expect(parseSearch('8 999 12', 'RU')!.digits).toEqual(['899912', '799912']);
    expect(parseSearch('8 999 12', 'US')!.digits).toEqual(['899912']);
    expect(parseSearch('+8 999', 'RU')!.digits).toEqual(['8999']);
  });
  it('reads fewer than 4 digits as text (names, e-mails), not as a part of a phone', () => {
    expect(parseSearch('123', 'RU')).toEqual({ name: '123', key: '123', value: '123', phone: null, digits: [] });
    expect(parseSearch('8 99', 'RU')).toEqual({ name: '8 99', key: '8 99', value: null, phone: null, digits: [] });
    expect(parseSearch('12', 'RU')).toMatchObject({ name: '12', value: null, phone: null, digits: [] });
  });
  it('does not search a value with control characters in e-mails', () => expect(parseSearch('a@b\nc', 'RU')!.value).toBeNull());
  it('does not read a mixed query as a phone', () => expect(parseSearch('ivan999', 'RU')).toMatchObject({ phone: null, digits: [], value: 'ivan999' }));
  it('rejects an oversized query', () => {
    let err: unknown;
    try {
      parseSearch('x'.repeat(QUERY_MAX + 1), 'RU');
    } catch (e) {
      err = e;
    }
    expect((err as DomainError).code).toBe('INVALID_ARGUMENT');
  });
});

describe('LIKE escaping', () => {
  it('escapes %, _ and \\', () => {
    expect(escapeLike('50%_a\\b')).toBe('50\\%\\_a\\\\b');
    expect(likeContains('ivan_p')).toBe('%ivan\\_p%');
  });
});
