import { DomainError, type FieldViolation } from '@crm/errors';
import { prepareCreate, type CreateRequestInput } from './create-request';

const blankAttribution = { utmSource: '', utmMedium: '', utmCampaign: '', utmContent: '', utmTerm: '', landingPage: '', referrer: '' };

function input(over: Partial<CreateRequestInput> = {}): CreateRequestInput {
  return {
    channel: 'web_form',
    name: 'Иван Петров',
    phone: '8 (999) 123-45-67',
    email: '',
    message: 'Call me back',
    attribution: blankAttribution,
    idempotencyKey: '',
    publicFormId: '',
    defaultCountry: '',
    extraFields: [],
    extraFieldsTruncated: false,
    ...over,
  };
}

function violations(over: Partial<CreateRequestInput>): FieldViolation[] {
  try {
    prepareCreate(input(over), 'RU');
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('INVALID_ARGUMENT');
    return (err as DomainError).violations;
  }
  throw new Error('expected a ValidationError');
}

describe('prepareCreate', () => {
  it('normalises contact points and trims; absent values become null', () => {
    const { request, idempotencyKey } = prepareCreate(
      input({ name: '  Иван  ', email: ' Ivan@Example.COM ', attribution: { ...blankAttribution, utmSource: ' yandex ', landingPage: 'https://example.com/a?b=1' } }),
      'RU',
    );
    expect(request).toEqual({
      channel: 'web_form',
      name: 'Иван',
      phone: '+79991234567',
      email: 'ivan@example.com',
      message: 'Call me back',
      attribution: { utmSource: 'yandex', utmMedium: null, utmCampaign: null, utmContent: null, utmTerm: null, landingPage: 'https://example.com/a?b=1', referrer: null },
      publicFormId: null,
      extraFields: [],
      extraFieldsTruncated: false,
      projectId: null,
      dialedNumberKind: null,
      missed: false,
    });
    expect(idempotencyKey).toBeNull();
  });

  it('routing fields (issue 8): project id, dialed number kind, missed (phone only); in the fingerprint only when set', () => {
    const p = '0190aaaa-0000-7000-8000-000000000001';
    const r = prepareCreate(input({ channel: 'phone', projectId: ` ${p.toUpperCase()} `, dialedNumberKind: 'Advertising', missed: true }), 'RU').request;
    expect(r).toMatchObject({ projectId: p, dialedNumberKind: 'advertising', missed: true });
    expect(prepareCreate(input({ projectId: '', dialedNumberKind: '', missed: false }), 'RU').fingerprint).toBe(prepareCreate(input({}), 'RU').fingerprint);
    expect(prepareCreate(input({ projectId: p }), 'RU').fingerprint).not.toBe(prepareCreate(input({}), 'RU').fingerprint);
    expect(violations({ projectId: 'nope', dialedNumberKind: 'fax', missed: true }).map((v) => v.field)).toEqual(['project_id', 'dialed_number_kind', 'missed']);
  });

  it('reads the phone with the call default_country when given, else the service default', () => {
    expect(prepareCreate(input({ phone: '(650) 253-0000', defaultCountry: 'us' }), 'RU').request.phone).toBe('+16502530000');
    expect(prepareCreate(input({ phone: '999 123 45 67' }), 'RU').request.phone).toBe('+79991234567');
    // ...and says which one it used (passed on to contacts' MatchOrCreate).
    expect(prepareCreate(input({ phone: '(650) 253-0000', defaultCountry: 'us' }), 'RU').country).toBe('US');
    expect(prepareCreate(input({}), 'KZ').country).toBe('KZ');
  });

  it('the same request written differently has the same fingerprint; the key is not part of it', () => {
    const a = prepareCreate(input({ phone: '8 (999) 123-45-67', email: 'A@B.ru', idempotencyKey: 'k1' }), 'RU');
    const b = prepareCreate(input({ phone: '+79991234567', email: ' a@b.ru ', idempotencyKey: 'k2', defaultCountry: 'RU' }), 'RU');
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.idempotencyKey).toBe('k1');
    expect(prepareCreate(input({ message: 'other' }), 'RU').fingerprint).not.toBe(a.fingerprint);
  });

  it('rejects an unspecified or unknown channel', () => {
    expect(violations({ channel: '' })).toEqual([{ field: 'channel', message: 'is required' }]);
    expect(violations({ channel: 'fax' })).toEqual([{ field: 'channel', message: 'is not a known channel' }]);
  });

  it('rejects an invalid phone with a violation on phone', () => {
    expect(violations({ phone: '12345' })).toEqual([{ field: 'phone', message: expect.stringMatching(/not a valid phone number/) }]);
  });

  it('rejects an invalid e-mail and an unknown default_country', () => {
    expect(violations({ email: 'not-an-email' })).toEqual([{ field: 'email', message: 'is not a valid e-mail address' }]);
    expect(violations({ defaultCountry: 'XX' })).toEqual([{ field: 'default_country', message: 'must be a supported ISO 3166-1 alpha-2 country code' }]);
  });

  it('a web form needs a phone or an e-mail; other channels do not', () => {
    expect(violations({ phone: '  ', email: '' }).map((v) => v.field)).toEqual(['phone', 'email']);
    expect(prepareCreate(input({ channel: 'chat', phone: '', email: '' }), 'RU').request).toMatchObject({ phone: null, email: null });
    expect(prepareCreate(input({ phone: '', email: 'a@b.ru' }), 'RU').request.email).toBe('a@b.ru');
  });

  it('enforces the length limits in characters (not bytes)', () => {
    expect(() => prepareCreate(input({ name: 'Я'.repeat(200), message: 'ж'.repeat(5000) }), 'RU')).not.toThrow();
    expect(violations({ name: 'Я'.repeat(201) })).toEqual([{ field: 'name', message: 'must be at most 200 characters' }]);
    expect(violations({ message: 'x'.repeat(5001) })).toEqual([{ field: 'message', message: 'must be at most 5000 characters' }]);
    expect(violations({ attribution: { ...blankAttribution, utmCampaign: 'c'.repeat(201), utmTerm: 't'.repeat(201) } })).toEqual([
      { field: 'attribution.utm_campaign', message: 'must be at most 200 characters' },
      { field: 'attribution.utm_term', message: 'must be at most 200 characters' },
    ]);
    expect(violations({ attribution: { ...blankAttribution, landingPage: `https://example.com/${'p'.repeat(2000)}` } })).toEqual([
      { field: 'attribution.landing_page', message: 'must be at most 2000 characters' },
    ]);
  });

  it('landing page and referrer must be http(s) URLs', () => {
    expect(violations({ attribution: { ...blankAttribution, landingPage: 'javascript:alert(1)', referrer: 'not a url' } })).toEqual([
      { field: 'attribution.landing_page', message: 'must be an http(s) URL' },
      { field: 'attribution.referrer', message: 'must be an http(s) URL' },
    ]);
    expect(violations({ attribution: { ...blankAttribution, referrer: 'ftp://example.com/' } })).toEqual([{ field: 'attribution.referrer', message: 'must be an http(s) URL' }]);
  });

  it('a public form id only comes with the web_form channel', () => {
    expect(prepareCreate(input({ publicFormId: 'form-1' }), 'RU').request.publicFormId).toBe('form-1');
    expect(violations({ channel: 'chat', publicFormId: 'form-1' })).toEqual([{ field: 'public_form_id', message: 'is only allowed for the web_form channel' }]);
  });

  it('reports every problem at once, and the message names them', () => {
    try {
      prepareCreate(input({ channel: '', phone: 'nope', name: 'n'.repeat(201), idempotencyKey: 'k'.repeat(201) }), 'RU');
      throw new Error('expected a ValidationError');
    } catch (err) {
      const e = err as DomainError;
      expect(e.violations.map((v) => v.field)).toEqual(['channel', 'name', 'phone', 'idempotency_key']);
      expect(e.message).toBe(
        'CreateRequest is invalid: channel is required; name must be at most 200 characters; phone is not a phone number; idempotency_key must be at most 200 characters',
      );
    }
  });
});

describe('extra fields', () => {
  const f = (key: string, value: string) => ({ key, value });

  it('keeps them in order with duplicate keys; trims keys; they are part of the fingerprint only when present', () => {
    const none = prepareCreate(input(), 'RU');
    const some = prepareCreate(input({ extraFields: [f(' company ', 'ACME'), f('tag', 'a'), f('tag', 'b')] }), 'RU');
    expect(some.request.extraFields).toEqual([
      ['company', 'ACME'],
      ['tag', 'a'],
      ['tag', 'b'],
    ]);
    expect(some.fingerprint).not.toBe(none.fingerprint);
    expect(prepareCreate(input({ extraFields: [f('tag', 'b'), f('tag', 'a'), f('company', 'ACME')] }), 'RU').fingerprint).not.toBe(some.fingerprint);
    expect(prepareCreate(input({ extraFieldsTruncated: true }), 'RU').fingerprint).not.toBe(none.fingerprint);
  });

  it('accepts exactly the bounds', () => {
    const fields = Array.from({ length: 50 }, (_, i) => f(`k${i}`.padEnd(100, 'x'), 'v'.repeat(200)));
    expect(prepareCreate(input({ extraFields: fields }), 'RU').request.extraFields).toHaveLength(50);
    expect(prepareCreate(input({ extraFields: [f('k'.repeat(100), 'я'.repeat(2000))] }), 'RU').request.extraFields[0][1]).toHaveLength(2000);
  });

  it('rejects what is beyond them, naming the field', () => {
    expect(violations({ extraFields: Array.from({ length: 51 }, (_, i) => f(`k${i}`, 'v')) })).toEqual([{ field: 'extra_fields', message: 'must have at most 50 fields' }]);
    expect(violations({ extraFields: [f('ok', 'v'), f(' ', 'v')] }).map((v) => v.field)).toEqual(['extra_fields[1].key']);
    expect(violations({ extraFields: [f('k'.repeat(101), 'v')] }).map((v) => v.field)).toEqual(['extra_fields[0].key']);
    expect(violations({ extraFields: [f('a\u0000b', 'v')] }).map((v) => v.field)).toEqual(['extra_fields[0].key']);
    expect(violations({ extraFields: [f('k', 'v'.repeat(2001))] }).map((v) => v.field)).toEqual(['extra_fields[0].value']);
    expect(violations({ extraFields: [f('k', 'a\u0000b')] }).map((v) => v.field)).toEqual(['extra_fields[0].value']);
    // 16 KiB of UTF-8 in all: 9 values of 1000 Cyrillic letters are 18 000 bytes.
    expect(violations({ extraFields: Array.from({ length: 9 }, (_, i) => f(`k${i}`, 'я'.repeat(1000))) })).toEqual([
      { field: 'extra_fields', message: 'must be at most 16384 bytes in all' },
    ]);
  });
});
