import { FORM_LIMITS, FormInputError } from './mapping';

/**
 * `application/x-www-form-urlencoded` as browsers send it (WHATWG URL standard): `&`-separated
 * `name=value` pairs, `+` for a space, percent-escapes of UTF-8. Strict where a lenient parser would
 * guess: a malformed escape or bytes that are not UTF-8 are a 400, so a lead is never stored garbled.
 * Keys keep their order; a repeated key gives a list. The object has no prototype (`__proto__` is
 * just a field name). More than FORM_LIMITS.fields pairs is a 413.
 */
export function parseUrlEncoded(body: string): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  if (body === '') return out;
  const pairs = body.split('&');
  if (pairs.length > FORM_LIMITS.fields) throw new FormInputError(413, `too many fields: at most ${FORM_LIMITS.fields}`);
  for (const pair of pairs) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    const had = out[key];
    if (had === undefined) out[key] = value;
    else if (Array.isArray(had)) had.push(value);
    else out[key] = [had, value];
  }
  return out;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new FormInputError(400, 'the form body is not valid application/x-www-form-urlencoded (a malformed %-escape or not UTF-8)');
  }
}
