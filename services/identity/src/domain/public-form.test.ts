import { checkFieldMapping, checkThankYouUrl } from './public-form';
import { Violations } from './validation';

describe('checkFieldMapping', () => {
  it('trims, keeps order and drops case-insensitive duplicates within a target', () => {
    const v = new Violations();
    const m = checkFieldMapping(v, 'field_mapping', { name: [' FullName ', 'fullname', 'Client'], phone: ['Tel'] });
    expect(v.list).toEqual([]);
    expect(m).toEqual({ name: ['FullName', 'Client'], phone: ['Tel'], email: [], message: [] });
  });

  it('rejects empty, too long and control-character names, too many names and a name on two targets', () => {
    const v = new Violations();
    checkFieldMapping(v, 'field_mapping', {
      name: ['', 'x'.repeat(101), 'a\u0007b'],
      phone: Array.from({ length: 21 }, (_, i) => `p${i}`),
      email: ['Contact'],
      message: ['CONTACT'],
    });
    expect(v.list.map((x) => x.field)).toEqual([
      'field_mapping.name',
      'field_mapping.name',
      'field_mapping.name',
      'field_mapping.phone',
      'field_mapping.message',
    ]);
  });
});

describe('checkThankYouUrl', () => {
  it.each([
    ['', null],
    ['  ', null],
    ['https://example.com/thanks?x=1', 'https://example.com/thanks?x=1'],
    ['http://пример.рф/спасибо', 'http://пример.рф/спасибо'],
  ])('accepts %j', (input, expected) => {
    const v = new Violations();
    expect(checkThankYouUrl(v, 'thank_you_url', input)).toBe(expected);
    expect(v.list).toEqual([]);
  });

  it.each(['javascript:alert(1)', 'ftp://example.com/', '/thanks', 'https://', `https://example.com/${'a'.repeat(2000)}`, 'https://exa mple.com/'])(
    'rejects %j',
    (input) => {
      const v = new Violations();
      expect(checkThankYouUrl(v, 'thank_you_url', input)).toBeNull();
      expect(v.list.map((x) => x.field)).toEqual(['thank_you_url']);
    },
  );
});
