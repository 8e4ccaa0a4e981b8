/**
 * The one way values get into ClickHouse SQL. ClickHouse 18.16 (tests) has no server-side query
 * parameters, so every value is rendered as a literal here, after validation, and SQL is only ever
 * built with the `sql` tag, whose interpolations must themselves be `Sql` fragments made by the
 * functions below. A plain string interpolated into `sql` is a type error and throws at run time.
 */

/** Only this module holds it, so only this module can make an `Sql`. */
const MINT = Symbol('sql');

/** A fragment of SQL text that is safe to send: literal text of the code, or a formatted value. */
export class Sql {
  readonly text: string;

  /** Not for callers: use the `sql` tag or the formatters below. */
  constructor(mint: symbol, text: string) {
    if (mint !== MINT) throw new SqlFormatError('Sql fragments are made by the sql tag and the formatters only');
    this.text = text;
  }

  toString(): string {
    return this.text;
  }
}

const make = (text: string) => new Sql(MINT, text);

export class SqlFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SqlFormatError';
  }
}

/** Builds SQL from literal code text and `Sql` fragments only. */
export function sql(strings: TemplateStringsArray, ...values: Sql[]): Sql {
  let text = strings[0];
  values.forEach((value, i) => {
    if (!(value instanceof Sql)) {
      throw new SqlFormatError(`sql: interpolation ${i} is a ${typeof value}, not a formatted Sql fragment (use str(), date(), ident(), num())`);
    }
    text += value.text + strings[i + 1];
  });
  return make(text);
}

/**
 * SQL text that comes from the code base itself (migration files). Never pass data to it.
 * It exists so that the place where unformatted text enters is named and easy to audit.
 */
export function trustedSql(text: string): Sql {
  return make(text);
}

/** Joins fragments with a comma (lists of columns or values). */
export function list(items: Sql[]): Sql {
  for (const item of items) if (!(item instanceof Sql)) throw new SqlFormatError('list: every item must be an Sql fragment');
  return make(items.map((i) => i.text).join(', '));
}

const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const NAMED_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\0': '\\0',
};

/**
 * A ClickHouse string literal: single-quoted, with backslash and quote escaped and every control
 * character (U+0000–U+001F, U+007F) written as an escape, so the text of the literal never contains
 * a raw quote, backslash, line break or NUL. Other characters (all of Unicode) are kept as they are
 * and sent as UTF-8. Strings with lone surrogates are rejected: they have no UTF-8 form.
 */
export function str(value: string): Sql {
  if (typeof value !== 'string') throw new SqlFormatError(`str: expected a string, got ${typeof value}`);
  if (LONE_SURROGATE_RE.test(value)) throw new SqlFormatError('str: the string contains a lone surrogate (not valid Unicode)');
  // eslint-disable-next-line no-control-regex
  const escaped = value.replace(/[\\'\u0000-\u001f\u007f]/g, (ch) => NAMED_ESCAPES[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return make(`'${escaped}'`);
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Dates that both ClickHouse Date and DateTime (UInt32 seconds) can hold. */
export const MIN_DATE = '1970-01-01';
export const MAX_DATE = '2105-12-31';

/** True when `value` is a real calendar day written YYYY-MM-DD within MIN_DATE..MAX_DATE. */
export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  // Round-trip: 2026-02-30 becomes March 2nd (ClickHouse would silently do the same), so it fails here.
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return false;
  return value >= MIN_DATE && value <= MAX_DATE;
}

/** `toDate('YYYY-MM-DD')` after strict validation (a real day, 1970-01-01..2105-12-31). */
export function date(value: string): Sql {
  if (!isIsoDate(value)) throw new SqlFormatError(`date: "${String(value).slice(0, 40)}" is not a calendar day YYYY-MM-DD within ${MIN_DATE}..${MAX_DATE}`);
  return make(`toDate('${value}')`);
}

export const IDENT_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A database, table or column name: letters, digits and underscore only, not starting with a digit. */
export function ident(name: string): Sql {
  if (typeof name !== 'string' || !IDENT_RE.test(name) || name.length > 128) {
    throw new SqlFormatError(`ident: "${String(name).slice(0, 40)}" is not an identifier like ${IDENT_RE}`);
  }
  return make(name);
}

/** A finite number. Integers are written exactly (up to 2^53); others in JavaScript's shortest form. */
export function num(value: number): Sql {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new SqlFormatError(`num: ${String(value)} is not a finite number`);
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) throw new SqlFormatError(`num: ${value} is beyond 2^53 and would lose precision`);
  // Object.is(-0): "-0" is fine SQL, but write 0 to keep the text boring.
  return make(Object.is(value, -0) ? '0' : String(value));
}
