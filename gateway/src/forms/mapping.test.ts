import { formFixtures, type FormFixture } from '../../test/fixtures/forms';
import {
  boundExtraFields,
  canonicalFieldName,
  fieldsOfBody,
  FormInputError,
  mapSubmission,
  parseCookieString,
  submissionKey,
  utmFromCookies,
  DUPLICATE_WINDOW_MS,
  type Envelope,
} from './mapping';
import { parseUrlEncoded } from './parse';

/** The body object the route gets from Fastify's parsers for a fixture. */
function parsedBody(f: FormFixture): unknown {
  if (f.body !== undefined) return parseUrlEncoded(f.body);
  if (f.parts) {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of f.parts) {
      const had = out[k];
      out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
    }
    return out;
  }
  return f.json;
}

const digits = (s: string) => s.replace(/\D/g, '');
const env = (fields: Record<string, string>): Envelope => ({ fields: Object.entries(fields).map(([key, value]) => ({ key, value })) });

describe.each(formFixtures().map((f) => [f.builder, f] as const))('fixture: %s', (_builder, f) => {
  it('maps name, phone, e-mail, message, UTM tags, extra fields and the submission id', () => {
    const m = mapSubmission(fieldsOfBody(parsedBody(f)), { referer: f.headers.referer });
    expect(m.name).toBe(f.expected.name);
    // The gateway passes the phone as sent; intake normalises it to E.164 (the e2e test checks that).
    expect(digits(m.phone).slice(-10)).toBe(digits(f.expected.phone).slice(-10));
    expect(m.email.toLowerCase()).toBe(f.expected.email);
    expect(m.message).toBe(f.expected.message);
    expect(m.attribution).toEqual(f.expected.attribution);
    expect(m.extraFields).toEqual(f.expected.extra_fields);
    expect(m.extraFieldsTruncated).toBe(false);
    expect(m.submissionId).toBe(f.expected.submission_id);
    expect(m.honeypot).toBe(false);
  });
});

describe('field names', () => {
  it('ignore case, spaces, "-", "_" and "."', () => {
    expect(canonicalFieldName('Your-Name')).toBe('yourname');
    expect(canonicalFieldName('phone_number')).toBe(canonicalFieldName('Phone Number'));
    expect(canonicalFieldName('E.Mail')).toBe('email');
  });

  it("try the form's own mapping before the defaults, case-insensitively", () => {
    const m = mapSubmission(env({ 'Контактное лицо': 'Анна', name: 'ACME Corp', Mobile: '+7 916 000 00 01', 'Ваш e-mail': 'a@b.ru' }), {
      mapping: { name: ['контактное лицо'], phone: [], email: ['ВАШ E-MAIL'], message: [] },
    });
    expect(m.name).toBe('Анна');
    expect(m.phone).toBe('+7 916 000 00 01');
    expect(m.email).toBe('a@b.ru');
    // `name` was not the form's name field: it is kept as an extra field.
    expect(m.extraFields).toEqual([{ key: 'name', value: 'ACME Corp' }]);
  });

  it('keep a second field of the same target, and empty fields are dropped', () => {
    const m = mapSubmission(env({ phone: '+79160000001', tel: '+79160000002', email: '', message: '  ' }));
    expect(m.phone).toBe('+79160000001');
    expect(m.extraFields).toEqual([{ key: 'tel', value: '+79160000002' }]);
  });

  it('join first and last names when there is no name field', () => {
    expect(mapSubmission(env({ first_name: 'Anna', 'Last Name': 'Ivanova' })).name).toBe('Anna Ivanova');
    const both = mapSubmission(env({ name: 'Anna I.', firstname: 'Anna' }));
    expect(both.name).toBe('Anna I.');
    expect(both.extraFields).toEqual([{ key: 'first_name', value: 'Anna' }]);
  });

  it('recognise Contact Form 7 generated names and drop its meta fields', () => {
    const m = mapSubmission(env({ 'tel-123': '+79160000003', 'email-9': 'x@y.ru', 'textarea-5': 'hi', _wpcf7: '1', _wpcf7_unit_tag: 'x', 'g-recaptcha-response': 'tok' }));
    expect([m.phone, m.email, m.message, m.extraFields]).toEqual(['+79160000003', 'x@y.ru', 'hi', []]);
  });
});

describe('UTM tags', () => {
  it('fields win over the page URL, the URL over cookies', () => {
    const m = mapSubmission(
      env({
        utm_source: 'field',
        page_url: 'https://site.example/?utm_source=url&utm_medium=url&utm_campaign=url',
        COOKIES: 'utm_source=cookie; utm_medium=cookie; utm_campaign=cookie; utm_content=cookie; TILDAUTM=utm_term%3Dtilda',
      }),
    );
    expect(m.attribution).toMatchObject({ utm_source: 'field', utm_medium: 'url', utm_campaign: 'url', utm_content: 'cookie', utm_term: 'tilda' });
  });

  it('read a plain form post\'s page from the Referer header, and only an http(s) one', () => {
    expect(mapSubmission(env({}), { referer: 'https://a.example/p?utm_source=ref' }).attribution).toMatchObject({ utm_source: 'ref', landing_page: 'https://a.example/p?utm_source=ref' });
    expect(mapSubmission(env({}), { referer: 'javascript:alert(1)' }).attribution.landing_page).toBe('');
    // A page_url field wins over the Referer.
    expect(mapSubmission(env({ page_url: 'https://b.example/' }), { referer: 'https://a.example/' }).attribution.landing_page).toBe('https://b.example/');
  });

  it("parse Tilda's COOKIES string, tolerating bad escapes", () => {
    expect(parseCookieString('a=1; b=%D0%B0; c=%zz; =x; d')).toEqual([
      ['a', '1'],
      ['b', 'а'],
      ['c', '%zz'],
    ]);
    expect(utmFromCookies([['TILDAUTM', 'utm_source=ya|||utm_medium=cpc|||']])).toEqual({ utm_source: 'ya', utm_medium: 'cpc' });
  });

  it('cut UTM values from URLs and cookies to 200 characters, but pass a field as sent (intake rejects it)', () => {
    const long = 'x'.repeat(300);
    expect(mapSubmission(env({ COOKIES: `utm_source=${long}` })).attribution.utm_source).toHaveLength(200);
    expect(mapSubmission(env({ utm_source: long })).attribution.utm_source).toHaveLength(300);
  });
});

describe('extra fields are bounded', () => {
  it('drop fields beyond 50 and say so', () => {
    const fields = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`f${i}`, 'v']));
    const m = mapSubmission(env(fields));
    expect(m.extraFields).toHaveLength(50);
    expect(m.extraFields[49]).toEqual({ key: 'f49', value: 'v' });
    expect(m.extraFieldsTruncated).toBe(true);
  });

  it('cut values to 2000 characters, drop keys over 100, stop at 16 KiB in all', () => {
    const b = boundExtraFields([
      { key: 'long', value: 'я'.repeat(2500) },
      { key: 'k'.repeat(101), value: 'v' },
      ...Array.from({ length: 10 }, (_, i) => ({ key: `f${i}`, value: 'z'.repeat(2000) })),
    ]);
    expect(b.truncated).toBe(true);
    expect(b.kept[0].value).toHaveLength(2000);
    expect(b.kept.some((f) => f.key.startsWith('kkk'))).toBe(false);
    const bytes = b.kept.reduce((n, f) => n + Buffer.byteLength(f.key) + Buffer.byteLength(f.value), 0);
    expect(bytes).toBeLessThanOrEqual(16 * 1024);
    expect(b.kept.length).toBe(7);
  });

  it('are not truncated when within the bounds', () => {
    expect(boundExtraFields([{ key: 'a', value: 'b' }])).toEqual({ kept: [{ key: 'a', value: 'b' }], truncated: false });
  });
});

describe('bodies', () => {
  it('join lists, stringify numbers and booleans, skip nulls', () => {
    expect(fieldsOfBody({ a: ['x', 'y'], n: 12, b: true, z: null }).fields).toEqual([
      { key: 'a', value: 'x, y' },
      { key: 'n', value: '12', numeric: true },
      { key: 'b', value: 'true' },
    ]);
  });

  it('reject nested objects (other than the Webflow envelopes), non-objects and more than 200 fields', () => {
    const status = (body: unknown) => {
      try {
        fieldsOfBody(body);
      } catch (err) {
        return (err as FormInputError).status;
      }
      return 0;
    };
    expect(status({ a: { b: 1 } })).toBe(400);
    expect(status({ a: 'x\u0000y' })).toBe(400);
    expect(status({ 'a\u0000': 'x' })).toBe(400);
    expect(status({ a: ['ok', '\u0000'] })).toBe(400);
    expect(status({ a: [{ b: 1 }] })).toBe(400);
    expect(status([1, 2])).toBe(400);
    expect(status('text')).toBe(400);
    expect(status(Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`f${i}`, 'v'])))).toBe(413);
    expect(status(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`f${i}`, 'v'])))).toBe(0);
  });

  it('the honeypot and Tilda\'s connection test are recognised', () => {
    expect(mapSubmission(env({ name: 'Bot', website: 'http://spam.example' })).honeypot).toBe(true);
    expect(mapSubmission(env({ name: 'Person', website: '' })).honeypot).toBe(false);
    expect(mapSubmission(env({ test: 'test' })).connectionTest).toBe(true);
    expect(mapSubmission(env({ test: 'test', phone: '+79160000001' })).connectionTest).toBe(false);
  });
});

describe('parseUrlEncoded', () => {
  it('decodes + and %-escapes, keeps order, lists repeated keys, has no prototype', () => {
    const o = parseUrlEncoded('b=%D0%98%D0%B2%D0%B0%D0%BD+%D0%9F&a=1&a=2&flag&__proto__=x');
    expect(Object.keys(o)).toEqual(['b', 'a', 'flag', '__proto__']);
    expect(o.b).toBe('Иван П');
    expect(o.a).toEqual(['1', '2']);
    expect(o.flag).toBe('');
    expect(Object.getPrototypeOf(o)).toBeNull();
  });

  it.each(['name=%zz', 'name=%E0%A4%A', 'name=%C3%28', '%ff=1'])('rejects the malformed %j with a 400', (body) => {
    expect(() => parseUrlEncoded(body)).toThrow(FormInputError);
    try {
      parseUrlEncoded(body);
    } catch (err) {
      expect((err as FormInputError).status).toBe(400);
    }
  });

  it('rejects more than 200 pairs with a 413', () => {
    expect(() => parseUrlEncoded(Array.from({ length: 201 }, (_, i) => `f${i}=v`).join('&'))).toThrow(/too many fields/);
  });
});

describe('submissionKey', () => {
  const m = mapSubmission(env({ name: 'A', phone: '+79160000001' }));
  it("uses the sender's submission id when there is one", () => {
    expect(submissionKey('pf_x', { ...m, submissionId: 'tr-1' }, 0)).toBe('form:pf_x:id:tr-1');
  });
  it('else the content within a 10-minute window', () => {
    const t = 5 * DUPLICATE_WINDOW_MS;
    expect(submissionKey('pf_x', m, t)).toBe(submissionKey('pf_x', m, t + DUPLICATE_WINDOW_MS - 1));
    expect(submissionKey('pf_x', m, t)).not.toBe(submissionKey('pf_x', m, t + DUPLICATE_WINDOW_MS));
    expect(submissionKey('pf_x', m, t)).not.toBe(submissionKey('pf_y', m, t));
    expect(submissionKey('pf_x', m, t)).not.toBe(submissionKey('pf_x', { ...m, message: 'other' }, t));
    expect(submissionKey('pf_x', m, t).length).toBeLessThanOrEqual(200);
  });
});
