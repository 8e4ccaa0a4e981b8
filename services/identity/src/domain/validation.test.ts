import { Role } from '@crm/contracts/crm/identity/v1/identity';
import { ValidationError } from '@crm/errors';
import { checkEmail, checkLocale, checkName, checkPassword, checkRoles, checkScopes, checkSlug, checkTimeZone, Violations } from './validation';

function run<T>(check: (v: Violations) => T): { value: T; violations: string[] } {
  const v = new Violations();
  const value = check(v);
  return { value, violations: v.list.map((x) => `${x.field}: ${x.message}`) };
}

describe('slug', () => {
  it.each(['ab', 'acme', 'acme-2', '0day', 'a'.repeat(63)])('accepts %s', (s) => {
    expect(run((v) => checkSlug(v, 'slug', s)).violations).toEqual([]);
  });
  it.each(['', 'a', '-acme', 'Acme', 'acme_co', 'acme.co', 'a'.repeat(64), 'акме', 'acme '])('rejects %p', (s) => {
    expect(run((v) => checkSlug(v, 'slug', s)).violations).toHaveLength(1);
  });
});

describe('e-mail', () => {
  it.each([
    ['Ivan.Petrov@Example.COM', 'ivan.petrov@example.com'],
    ['  a+tag@sub.example.org ', 'a+tag@sub.example.org'],
    ['user@пример.рф', 'user@пример.рф'],
    ['user@xn--e1afmkfd.xn--p1ai', 'user@xn--e1afmkfd.xn--p1ai'],
  ])('accepts %s and lower-cases it', (input, expected) => {
    expect(run((v) => checkEmail(v, 'email', input))).toEqual({ value: expected, violations: [] });
  });
  it.each(['', 'plain', 'a@b', 'a@@b.com', 'a b@c.com', 'a@b..com', 'a@-b.com', 'a@b.c', '<a>@b.com', `${'a'.repeat(65)}@b.com`, `a@${'b'.repeat(250)}.com`, 'a\u0007b@c.com', 'a@b.com\nx'])(
    'rejects %p',
    (input) => {
      expect(run((v) => checkEmail(v, 'email', input)).violations).toHaveLength(1);
    },
  );
});

describe('names and passwords', () => {
  it('trims names and bounds them to 1..200 characters', () => {
    expect(run((v) => checkName(v, 'name', '  Sales  '))).toEqual({ value: 'Sales', violations: [] });
    expect(run((v) => checkName(v, 'name', '   ')).violations).toEqual(['name: must not be empty']);
    expect(run((v) => checkName(v, 'name', 'я'.repeat(200))).violations).toEqual([]);
    expect(run((v) => checkName(v, 'name', 'я'.repeat(201))).violations).toEqual(['name: must be at most 200 characters']);
    expect(run((v) => checkName(v, 'name', 'a\u0000b')).violations).toHaveLength(1);
  });

  it('requires passwords of 8..200 characters', () => {
    expect(run((v) => checkPassword(v, 'password', '1234567')).violations).toHaveLength(1);
    expect(run((v) => checkPassword(v, 'password', '12345678')).violations).toEqual([]);
    expect(run((v) => checkPassword(v, 'password', 'x'.repeat(200))).violations).toEqual([]);
    expect(run((v) => checkPassword(v, 'password', 'x'.repeat(201))).violations).toHaveLength(1);
  });

  it('defaults the locale to ru and accepts only ru and en', () => {
    expect(run((v) => checkLocale(v, 'locale', ''))).toEqual({ value: 'ru', violations: [] });
    expect(run((v) => checkLocale(v, 'locale', 'en'))).toEqual({ value: 'en', violations: [] });
    expect(run((v) => checkLocale(v, 'locale', 'de')).violations).toHaveLength(1);
  });
});

describe('roles and scopes', () => {
  it('maps wire roles to names and collapses duplicates', () => {
    expect(run((v) => checkRoles(v, 'roles', [Role.ROLE_ADMIN, Role.ROLE_SELLER, Role.ROLE_ADMIN]))).toEqual({ value: ['admin', 'seller'], violations: [] });
    expect(run((v) => checkRoles(v, 'roles', [Role.ROLE_HEAD_OF_SALES, Role.ROLE_ANALYST])).value).toEqual(['head_of_sales', 'analyst']);
  });
  it('rejects no roles, ROLE_UNSPECIFIED and numbers outside the enum', () => {
    expect(run((v) => checkRoles(v, 'roles', [])).violations).toEqual(['roles: must contain at least one role']);
    expect(run((v) => checkRoles(v, 'roles', [Role.ROLE_UNSPECIFIED])).violations).toHaveLength(1);
    expect(run((v) => checkRoles(v, 'roles', [Role.ROLE_SELLER, 99 as Role])).violations).toEqual(['roles: unknown role 99']);
  });
  it('accepts only known scopes, at least one', () => {
    expect(run((v) => checkScopes(v, 'scopes', ['requests:read', 'identity:admin', 'requests:read'])).value).toEqual(['requests:read', 'identity:admin']);
    expect(run((v) => checkScopes(v, 'scopes', [])).violations).toHaveLength(1);
    expect(run((v) => checkScopes(v, 'scopes', ['requests:read', 'deals:delete'])).violations).toEqual([
      'scopes: unknown scope "deals:delete"; known: requests:read, requests:write, reports:read, contacts:read, contacts:write, team:read, tasks:read, tasks:write, routing:write, identity:admin, deals:read, deals:write, pipelines:write, calls:read, calls:write, telephony:admin',
    ]);
  });
});

describe('Violations', () => {
  it('throws one ValidationError listing every violation, and nothing when there is none', () => {
    const v = new Violations();
    v.throwIfAny();
    checkEmail(v, 'email', 'nope');
    checkPassword(v, 'password', 'short');
    let caught: unknown;
    try {
      v.throwIfAny();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).code).toBe('INVALID_ARGUMENT');
    expect((caught as ValidationError).violations.map((x) => x.field)).toEqual(['email', 'password']);
  });
});

describe('time zone', () => {
  it.each([
    ['Europe/Moscow', 'Europe/Moscow'],
    ['Europe/Berlin', 'Europe/Berlin'],
    ['UTC', 'UTC'],
    ['Etc/UTC', 'UTC'],
    ['Etc/GMT-3', 'Etc/GMT-3'],
    ['europe/moscow', 'Europe/Moscow'],
    ['America/Argentina/Salta', 'America/Argentina/Salta'],
  ])('accepts %s as %s', (input, canonical) => {
    expect(run((v) => checkTimeZone(v, 'time_zone', input, { emptyIsUtc: false }))).toEqual({ value: canonical, violations: [] });
  });
  it('treats empty as UTC at creation and as a mistake in an update', () => {
    expect(run((v) => checkTimeZone(v, 'time_zone', '', { emptyIsUtc: true }))).toEqual({ value: 'UTC', violations: [] });
    expect(run((v) => checkTimeZone(v, 'time_zone', '', { emptyIsUtc: false })).violations).toEqual(['time_zone: must not be empty']);
  });
  it.each(['Mars/Olympus', '+03:00', 'GMT+3', 'Moscow', ' UTC', 'Europe/Moscow\n', "UTC'; --", '../../etc/passwd', `Europe/${'x'.repeat(70)}`])('rejects %p', (s) => {
    expect(run((v) => checkTimeZone(v, 'time_zone', s, { emptyIsUtc: true })).violations).toEqual([
      'time_zone: must be an IANA time zone name such as Europe/Moscow or UTC',
    ]);
  });
});
