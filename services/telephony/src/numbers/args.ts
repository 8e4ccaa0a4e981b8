/**
 * Argument checks of NumberService and DniService: every problem is a field violation (INVALID_ARGUMENT),
 * never a database error. Pure functions (unit-tested in args.test.ts).
 */
import { isCountry, normalisePhone } from '@crm/contact-points';
import { isUuid } from '@crm/db';
import { ValidationError, type FieldViolation } from '@crm/errors';
import { NumberKind } from '@crm/contracts/crm/telephony/v1/telephony';
import type { CountryCode } from 'libphonenumber-js';

export const LABEL_MAX = 200;
export const UTM_MAX = 200;
export const POOL_NAME_MAX = 200;
export const POOL_NUMBERS_MAX = 100;
export const ORIGINS_MAX = 20;
export const QUIET_DEFAULT = 300;
export const QUIET_MIN = 30;
export const QUIET_MAX = 3600;
export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 100;
export const SEARCH_MAX = 15;
export const LANDING_MAX = 2000;
export const SESSION_RE = /^[A-Za-z0-9_-]{8,128}$/;

export type KindWord = 'advertising' | 'support' | 'sales';

export const KIND_WORD: Record<number, KindWord> = {
  [NumberKind.NUMBER_KIND_ADVERTISING]: 'advertising',
  [NumberKind.NUMBER_KIND_SUPPORT]: 'support',
  [NumberKind.NUMBER_KIND_SALES]: 'sales',
};
export const KIND_ENUM: Record<KindWord, NumberKind> = {
  advertising: NumberKind.NUMBER_KIND_ADVERTISING,
  support: NumberKind.NUMBER_KIND_SUPPORT,
  sales: NumberKind.NUMBER_KIND_SALES,
};

/** Collects violations and throws them all at once. */
export class Violations {
  readonly list: FieldViolation[] = [];
  add(field: string, message: string): void {
    this.list.push({ field, message });
  }
  throwIfAny(what: string): void {
    if (this.list.length) throw new ValidationError(`${what}: ${this.list.map((v) => `${v.field} ${v.message}`).join('; ')}`, this.list);
  }
}

export function idArg(field: string, raw: string | undefined): string {
  if (!raw || !isUuid(raw)) throw new ValidationError(`${field} must be a UUID`, [{ field, message: 'must be a UUID' }]);
  return raw.toLowerCase();
}

export function countryArg(v: Violations, raw: string | undefined): CountryCode {
  const c = (raw ?? '').trim().toUpperCase();
  if (!c) return 'RU';
  if (!isCountry(c)) {
    v.add('default_country', 'must be an ISO 3166-1 alpha-2 country code');
    return 'RU';
  }
  return c;
}

export function phoneArg(v: Violations, field: string, raw: string | undefined, country: CountryCode): string {
  const r = normalisePhone(raw ?? '', country);
  if (!r.ok) {
    v.add(field, raw ? r.problem : 'is required');
    return '';
  }
  return r.value;
}

/** Text without control characters, trimmed, at most `max`. */
export function textArg(v: Violations, field: string, raw: string | undefined, max: number): string {
  const t = (raw ?? '').trim();
  if (t.length > max) v.add(field, `must be at most ${max} characters`);
  // eslint-disable-next-line no-control-regex
  else if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(t)) v.add(field, 'must not contain control characters');
  return t;
}

/** '' stays ''; else a UUID (lower-cased). */
export function optionalIdArg(v: Violations, field: string, raw: string | undefined): string {
  if (!raw) return '';
  if (!isUuid(raw)) {
    v.add(field, 'must be a UUID');
    return '';
  }
  return raw.toLowerCase();
}

export function kindArg(v: Violations, raw: NumberKind | undefined): KindWord {
  const w = KIND_WORD[raw ?? 0];
  if (!w) v.add('kind', 'must be advertising, support or sales');
  return w ?? 'advertising';
}

export function quietArg(v: Violations, raw: number | undefined): number {
  const n = raw ?? 0;
  if (n === 0) return QUIET_DEFAULT;
  if (!Number.isInteger(n) || n < QUIET_MIN || n > QUIET_MAX) v.add('quiet_seconds', `must be ${QUIET_MIN}..${QUIET_MAX} (0 means ${QUIET_DEFAULT})`);
  return n;
}

/** `scheme://host[:port]` of http(s), lower-cased, no path; the Origin header's form. */
export function originArg(v: Violations, field: string, raw: string): string {
  const t = raw.trim();
  let u: URL | undefined;
  try {
    u = new URL(t);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:') || u.origin === 'null' || t.replace(/\/$/, '').toLowerCase() !== u.origin.toLowerCase() || t.length > 300) {
    v.add(field, 'must be an origin such as https://shop.example (scheme, host and optional port, no path)');
    return '';
  }
  return u.origin.toLowerCase();
}

export function originsArg(v: Violations, raw: string[] | undefined): string[] {
  const list = raw ?? [];
  if (list.length > ORIGINS_MAX) v.add('allowed_origins', `must have at most ${ORIGINS_MAX} items`);
  return [...new Set(list.slice(0, ORIGINS_MAX).map((o, i) => originArg(v, `allowed_origins[${i}]`, o)))].filter(Boolean);
}

export function idListArg(v: Violations, field: string, raw: string[] | undefined, max: number): string[] {
  const list = raw ?? [];
  if (list.length > max) {
    v.add(field, `must have at most ${max} items`);
    return [];
  }
  const out: string[] = [];
  list.forEach((id, i) => {
    if (!isUuid(id)) v.add(`${field}[${i}]`, 'must be a UUID');
    else out.push(id.toLowerCase());
  });
  return [...new Set(out)];
}

export function pageSizeArg(raw: number | undefined): number {
  const n = raw ?? 0;
  if (n === 0) return PAGE_DEFAULT;
  if (!Number.isInteger(n) || n < 1 || n > PAGE_MAX) throw new ValidationError(`page_size must be 1..${PAGE_MAX}`, [{ field: 'page_size', message: `must be 0..${PAGE_MAX}` }]);
  return n;
}

/** The digits of a search (at most 15, E.164's length); anything else is INVALID_ARGUMENT. */
export function searchArg(raw: string | undefined): string {
  const t = (raw ?? '').replace(/[\s()+-]/g, '');
  if (!t) return '';
  if (!/^\d+$/.test(t) || t.length > SEARCH_MAX) throw new ValidationError(`search must be 1..${SEARCH_MAX} digits`, [{ field: 'search', message: `must be 1..${SEARCH_MAX} digits` }]);
  return t;
}

/** RFC 3339 instant or '' (the default); else INVALID_ARGUMENT on `field`. */
export function instantArg(field: string, raw: string | undefined): Date | undefined {
  if (!raw) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(ms)) throw new ValidationError(`${field} must be an RFC 3339 time`, [{ field, message: 'must be an RFC 3339 time' }]);
  return new Date(ms);
}
