import { isCountry, normaliseEmail, normalisePhone, normaliseSocial, phoneDigits, SOCIAL_NETWORKS } from './index';

describe('normalisePhone', () => {
  it.each(['8 (999) 123-45-67', '+7 999 123 45 67', '+79991234567', '  +7 (999) 123-4567 ', '9991234567'])('reads %p as +79991234567 (default RU)', (raw) => {
    expect(normalisePhone(raw, 'RU')).toEqual({ ok: true, value: '+79991234567' });
  });

  it('uses the default country only for numbers without a +country prefix', () => {
    expect(normalisePhone('(650) 253-0000', 'US')).toEqual({ ok: true, value: '+16502530000' });
    expect(normalisePhone('+1 650 253 0000', 'RU')).toEqual({ ok: true, value: '+16502530000' });
    expect(normalisePhone('8 (999) 123-45-67', 'US').ok).toBe(false);
  });

  it.each([
    ['12345', /not a valid phone number/],
    ['+7 999 123 45 6', /not a valid phone number/],
    ['+7 999 123 45 678', /not a valid phone number/],
    ['+7 000 000 00 00', /not a valid phone number/],
    ['call me', /is not a phone number/],
    ['1'.repeat(65), /at most 64 characters/],
  ])('rejects %p', (raw, problem) => {
    const r = normalisePhone(raw, 'RU');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatch(problem);
  });
});

describe('normaliseEmail', () => {
  it('trims and lower-cases', () => {
    expect(normaliseEmail('  Ivan.Petrov@Example.COM ')).toEqual({ ok: true, value: 'ivan.petrov@example.com' });
    expect(normaliseEmail('a+tag@sub.example.ru')).toEqual({ ok: true, value: 'a+tag@sub.example.ru' });
    expect(normaliseEmail('ИВАН@пример.рф')).toEqual({ ok: true, value: 'иван@пример.рф' });
  });

  it.each(['plainaddress', 'a@b', '@example.com', 'a b@example.com', 'a@@example.com', 'a@example..com', '.a@example.com', 'a..b@example.com', `${'a'.repeat(65)}@example.com`, `a@${'b'.repeat(250)}.com`])(
    'rejects %p',
    (raw) => expect(normaliseEmail(raw).ok).toBe(false),
  );
});

describe('isCountry', () => {
  it('accepts supported ISO 3166-1 alpha-2 codes only', () => {
    expect(isCountry('RU')).toBe(true);
    expect(isCountry('KZ')).toBe(true);
    expect(isCountry('XX')).toBe(false);
    expect(isCountry('ru')).toBe(false);
  });
});

describe('normaliseSocial', () => {
  it.each([
    ['telegram', '@Ivan_Petrov', 'telegram:ivan_petrov'],
    ['  Telegram ', '  ivan_petrov  ', 'telegram:ivan_petrov'],
    ['VK', 'id12345', 'vk:id12345'],
    ['whatsapp', '79991234567', 'whatsapp:79991234567'],
    ['max', '@ @Ivan', 'max:@ivan'],
  ])('reads %p / %p as %p', (network, id, value) => {
    expect(normaliseSocial(network, id)).toEqual({ ok: true, value, network: value.split(':')[0] });
  });

  it('knows every listed network', () => {
    for (const n of SOCIAL_NETWORKS) expect(normaliseSocial(n, 'x').ok).toBe(true);
  });

  it.each([
    ['myspace', 'ivan', /network must be one of/],
    ['', 'ivan', /network must be one of/],
    ['telegram', '   ', /is empty/],
    ['telegram', '@', /is empty/],
    ['telegram', 'ivan petrov', /spaces/],
    ['telegram', 'ivan\u0000', /control/],
    ['telegram', 'x'.repeat(201), /at most 200/],
  ])('rejects %p / %p', (network, id, problem) => {
    const r = normaliseSocial(network, id);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatch(problem);
  });

  it('keeps exactly 200 characters', () => expect(normaliseSocial('vk', 'x'.repeat(200)).ok).toBe(true));
});

describe('phoneDigits', () => {
  it('drops the +', () => expect(phoneDigits('+79991234567')).toBe('79991234567'));
});
