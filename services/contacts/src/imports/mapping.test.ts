import { ImportField } from '@crm/contracts/crm/contacts/v1/imports';
import { DomainError } from '@crm/errors';
import { convertRow, socialPoint, suggestMapping, validateMapping } from './mapping';
import { detectDelimiter } from './csv';
import { csvCell, csvLine } from './export';

const F = ImportField;

describe('suggestMapping', () => {
  it('maps Russian and English header names', () => {
    const m = suggestMapping(['ФИО', 'Телефон', 'E-mail', 'Компания', 'ИНН', 'Telegram', 'Примечание'], [], 7, 'RU');
    expect(m.map((c) => c.field)).toEqual([F.IMPORT_FIELD_NAME, F.IMPORT_FIELD_PHONE, F.IMPORT_FIELD_EMAIL, F.IMPORT_FIELD_COMPANY, F.IMPORT_FIELD_TAX_ID, F.IMPORT_FIELD_TELEGRAM, F.IMPORT_FIELD_IGNORE]);
    const en = suggestMapping(['First name', 'Last name', 'Phone', 'Email'], [], 4, 'RU');
    expect(en.map((c) => c.field)).toEqual([F.IMPORT_FIELD_FIRST_NAME, F.IMPORT_FIELD_LAST_NAME, F.IMPORT_FIELD_PHONE, F.IMPORT_FIELD_EMAIL]);
    expect(suggestMapping(['Имя', 'Фамилия', 'Почта'], [], 3, 'RU').map((c) => c.field)).toEqual([F.IMPORT_FIELD_FIRST_NAME, F.IMPORT_FIELD_LAST_NAME, F.IMPORT_FIELD_EMAIL]);
  });

  it('guesses e-mail and phone columns from the values when there is no header', () => {
    const m = suggestMapping(null, [['Иван', '8 999 123-45-67', 'a@b.ru'], ['Пётр', '+7 912 000 11 22', 'p@x.com']], 3, 'RU');
    expect(m.map((c) => c.field)).toEqual([F.IMPORT_FIELD_IGNORE, F.IMPORT_FIELD_PHONE, F.IMPORT_FIELD_EMAIL]);
  });
});

describe('validateMapping', () => {
  it('needs an identifying field and refuses a field or column mapped twice', () => {
    expect(validateMapping([{ column: 1, field: F.IMPORT_FIELD_PHONE }, { column: 0, field: F.IMPORT_FIELD_IGNORE }], 2)).toEqual([{ column: 1, field: 'phone' }]);
    const twice = () => validateMapping([{ column: 0, field: F.IMPORT_FIELD_PHONE }, { column: 1, field: F.IMPORT_FIELD_PHONE }], 2);
    expect(twice).toThrow(DomainError);
    expect(() => validateMapping([{ column: 0, field: F.IMPORT_FIELD_COMPANY }], 2)).toThrow(/invalid mapping/);
    expect(() => validateMapping([{ column: 5, field: F.IMPORT_FIELD_NAME }], 2)).toThrow(/invalid mapping/);
  });
});

describe('convertRow', () => {
  const mapping = validateMapping(
    [
      { column: 0, field: F.IMPORT_FIELD_NAME },
      { column: 1, field: F.IMPORT_FIELD_PHONE },
      { column: 2, field: F.IMPORT_FIELD_EMAIL },
      { column: 3, field: F.IMPORT_FIELD_TELEGRAM },
      { column: 4, field: F.IMPORT_FIELD_TAX_ID },
    ],
    5,
  );
  it('normalises the points', () => {
    const r = convertRow(['  Иванов   Иван ', '8 (999) 123-45-67', 'Ivan@Mail.RU', 'https://t.me/IvanP', ''], mapping, 'RU');
    expect(r).toEqual({
      ok: true,
      row: {
        name: 'Иванов Иван',
        company: null,
        taxId: null,
        points: [
          { type: 'phone', value: '+79991234567', network: null, digits: '79991234567' },
          { type: 'email', value: 'ivan@mail.ru', network: null, digits: null },
          { type: 'social', value: 'telegram:ivanp', network: 'telegram', digits: null },
        ],
      },
    });
  });
  it('gives the reason of an invalid row', () => {
    expect(convertRow(['x', '12', '', '', ''], mapping, 'RU')).toMatchObject({ ok: false, reason: expect.stringMatching(/^phone "12"/) });
    expect(convertRow(['x', '', 'not-mail', '', ''], mapping, 'RU')).toMatchObject({ ok: false, reason: expect.stringMatching(/^e-mail/) });
    expect(convertRow(['', '', '', '', ''], mapping, 'RU')).toEqual({ ok: false, reason: 'no name, phone, e-mail or messenger' });
    expect(convertRow(['x', '', '', '', '7707083894'], mapping, 'RU')).toMatchObject({ ok: false, reason: expect.stringMatching(/INN/) });
    expect(convertRow(['x', '', '', '', '7707083893'], mapping, 'RU')).toMatchObject({ ok: true, row: { taxId: '7707083893' } });
    expect(convertRow(['я'.repeat(201), '', '', '', ''], mapping, 'RU')).toMatchObject({ ok: false });
  });
  it('reads messenger links and WhatsApp phones', () => {
    expect(socialPoint('vk', 'https://vk.com/Durov')).toEqual({ ok: true, value: 'vk:durov' });
    expect(socialPoint('whatsapp', '+7 (999) 123-45-67')).toEqual({ ok: true, value: 'whatsapp:+79991234567' });
    expect(socialPoint('telegram', '@')).toMatchObject({ ok: false });
  });
});

describe('detectDelimiter', () => {
  it('picks the separator with a consistent column count', () => {
    expect(detectDelimiter('name;phone\nИванов, Иван;8999\nПётр;8912\n')).toBe(';');
    expect(detectDelimiter('name,phone,email\n"Ivanov; Ivan",8999,a@b.ru\n')).toBe(',');
    expect(detectDelimiter('name\tphone\nIvan\t8999\n')).toBe('\t');
    expect(detectDelimiter('just one column\nand another\n')).toBe(',');
  });
});

describe('csv export cells', () => {
  it('quotes per RFC 4180 and guards formulas', () => {
    expect(csvLine(['a', 'b,c', 'say "hi"', 'two\nlines'])).toBe('a,"b,c","say ""hi""","two\nlines"\r\n');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('+79991234567')).toBe("'+79991234567");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('Иван')).toBe('Иван');
  });
});
