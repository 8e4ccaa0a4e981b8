import type { Role } from '@crm/contracts/crm/identity/v1/identity';
import { ValidationError, type FieldViolation } from '@crm/errors';
import { PASSWORD_MAX, PASSWORD_MIN } from './password';
import { isKnownScope, roleName, SCOPES, type RoleName, type Scope } from './access';

/**
 * Input validation for the write RPCs. Each check appends field violations; `Violations.throwIfAny`
 * raises one ValidationError (INVALID_ARGUMENT) listing all of them, before anything is written.
 */
export class Violations {
  readonly list: FieldViolation[] = [];

  add(field: string, message: string): void {
    this.list.push({ field, message });
  }

  throwIfAny(): void {
    if (this.list.length) throw new ValidationError(`invalid ${this.list.map((v) => v.field).join(', ')}`, this.list);
  }
}

export const NAME_MAX = 200;
export const EMAIL_MAX = 254;
export const SLUG_RE = /^[a-z0-9][a-z0-9-]{1,62}$/;
export const LOCALES = ['ru', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

// Deliberately plain: one @, no whitespace or control characters, a dotted domain of sane labels.
// Deliverability is not checkable here; this only rejects what cannot be an address.
// Domain labels may be Unicode letters (e.g. `пример.рф`) or punycode (`xn--e1afmkfd.xn--p1ai`).
const EMAIL_RE =
  /^[^\s@<>()[\]\\,;:"\p{Cc}]{1,64}@(?=.{1,253}$)(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+(?:\p{L}{2,63}|xn--[a-z0-9-]{1,59})$/u;

/** A trimmed display name of 1..NAME_MAX characters (code points). */
export function checkName(v: Violations, field: string, value: string): string {
  const name = value.trim();
  const length = [...name].length;
  if (length === 0) v.add(field, 'must not be empty');
  else if (length > NAME_MAX) v.add(field, `must be at most ${NAME_MAX} characters`);
  else if (/\p{Cc}/u.test(name)) v.add(field, 'must not contain control characters');
  return name;
}

/** Lower-cased, trimmed e-mail. */
export function checkEmail(v: Violations, field: string, value: string): string {
  const email = value.trim().toLowerCase();
  if (email.length === 0) v.add(field, 'must not be empty');
  else if (email.length > EMAIL_MAX) v.add(field, `must be at most ${EMAIL_MAX} characters`);
  else if (!EMAIL_RE.test(email)) v.add(field, 'must be an e-mail address');
  return email;
}

export function checkPassword(v: Violations, field: string, value: string): void {
  const length = [...value].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) v.add(field, `must be ${PASSWORD_MIN}..${PASSWORD_MAX} characters`);
}

export function checkSlug(v: Violations, field: string, value: string): string {
  if (!SLUG_RE.test(value)) v.add(field, 'must match ^[a-z0-9][a-z0-9-]{1,62}$');
  return value;
}

/** Empty means `ru`. */
export function checkLocale(v: Violations, field: string, value: string): Locale {
  if (value === '') return 'ru';
  if (!(LOCALES as readonly string[]).includes(value)) v.add(field, 'must be ru or en');
  return value as Locale;
}

export const TIME_ZONE_MAX = 64;
/** Area/Location names (`Europe/Moscow`, `America/Argentina/Salta`, `Etc/GMT-3`) and single names (`UTC`). */
const TIME_ZONE_RE = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+){0,2}$/;

/**
 * The canonical spelling of an IANA time zone name as the runtime's ICU knows it (`europe/moscow` →
 * `Europe/Moscow`, `Etc/UTC` → `UTC`, `Europe/Kyiv` → `Europe/Kiev`), or null when it is not one.
 * Offsets (`+03:00`) and anything but a zone name are refused before ICU sees them.
 */
export function canonicalTimeZone(value: string): string | null {
  if (value.length > TIME_ZONE_MAX || !TIME_ZONE_RE.test(value)) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return null; // RangeError: not a time zone ICU knows
  }
}

/** An IANA time zone name, returned canonical; empty means `UTC` when `emptyIsUtc`, else a violation. */
export function checkTimeZone(v: Violations, field: string, value: string, opts: { emptyIsUtc: boolean }): string {
  if (value === '') {
    if (opts.emptyIsUtc) return 'UTC';
    v.add(field, 'must not be empty');
    return value;
  }
  const canonical = canonicalTimeZone(value);
  if (canonical === null) v.add(field, 'must be an IANA time zone name such as Europe/Moscow or UTC');
  return canonical ?? value;
}

/** At least one known role; duplicates collapse. Returns the stored names. */
export function checkRoles(v: Violations, field: string, roles: readonly Role[]): RoleName[] {
  if (roles.length === 0) v.add(field, 'must contain at least one role');
  const names = new Set<RoleName>();
  for (const r of roles) {
    const name = roleName(r);
    if (name) names.add(name);
    else v.add(field, `unknown role ${r}`);
  }
  return [...names];
}

/** At least one known scope; duplicates collapse. */
export function checkScopes(v: Violations, field: string, scopes: readonly string[]): Scope[] {
  if (scopes.length === 0) v.add(field, 'must contain at least one scope');
  const known = new Set<Scope>();
  for (const s of scopes) {
    if (isKnownScope(s)) known.add(s);
    else v.add(field, `unknown scope "${s.slice(0, 64)}"; known: ${SCOPES.join(', ')}`);
  }
  return [...known];
}
