import { date, ident, isIsoDate, list, num, Sql, sql, SqlFormatError, str, trustedSql } from './sql';

/** Decodes a literal the way ClickHouse's lexer does, to prove what the server will read back. */
function unquote(literal: string): string {
  expect(literal.startsWith("'") && literal.endsWith("'")).toBe(true);
  const body = literal.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    // An unescaped quote inside the body would end the literal early: that is an injection.
    if (ch === "'") throw new Error(`unescaped quote at ${i} in ${literal}`);
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = body[++i];
    const simple: Record<string, string> = { '\\': '\\', "'": "'", b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '0': '\0' };
    if (next in simple) out += simple[next];
    else if (next === 'x') {
      out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else throw new Error(`unknown escape \\${next}`);
  }
  return out;
}

describe('str', () => {
  it.each([
    ['plain', "'plain'"],
    ['', "''"],
    ["O'Brien", "'O\\'Brien'"],
    ['back\\slash', "'back\\\\slash'"],
    ['line\nbreak', "'line\\nbreak'"],
    ['nul\0byte', "'nul\\0byte'"],
    ['tab\tcr\r', "'tab\\tcr\\r'"],
    ['bell\u0007del\u007f', "'bell\\x07del\\x7f'"],
    ['esc\u001b[31m', "'esc\\x1b[31m'"],
  ])('renders %j as %s', (value, expected) => {
    expect(str(value).text).toBe(expected);
  });

  it('keeps Unicode as it is', () => {
    for (const s of ['Привет', 'é', '😀', 'עברית', '\u2028\u2029', '漢字', 'a\u00a0b']) {
      expect(str(s).text).toBe(`'${s}'`);
    }
  });

  it.each([
    "' OR 1=1 --",
    "x'; DROP TABLE requests; --",
    "\\'; DROP TABLE requests; --",
    "\\\\'; SELECT 1 --",
    "'\n; DROP DATABASE crm_reporting",
    "a\\",
    "\\",
    "'",
    "''",
    "\0'\0",
    "{tenant:String}",
    '?',
    '$1',
    "abc' FORMAT TabSeparated --",
    '/* comment */',
    '`backtick`',
    '"double"',
  ])('cannot break out of the literal: %j', (attack) => {
    const literal = str(attack).text;
    expect(unquote(literal)).toBe(attack);
    // No raw line breaks or NULs reach the server.
    expect(literal).not.toMatch(/[\n\r\0]/);
  });

  it('round-trips every single code unit of the BMP control and ASCII range', () => {
    let all = '';
    for (let c = 0; c < 0x100; c++) all += String.fromCharCode(c);
    expect(unquote(str(all).text)).toBe(all);
  });

  it('rejects lone surrogates and non-strings', () => {
    expect(() => str('\ud800')).toThrow(SqlFormatError);
    expect(() => str('a\udc00b')).toThrow(SqlFormatError);
    expect(() => str(42 as unknown as string)).toThrow(SqlFormatError);
    expect(() => str(undefined as unknown as string)).toThrow(SqlFormatError);
  });
});

describe('date', () => {
  it.each(['2026-01-31', '2024-02-29', '1970-01-01', '2105-12-31', '2000-02-29'])('accepts %s', (d) => {
    expect(date(d).text).toBe(`toDate('${d}')`);
    expect(isIsoDate(d)).toBe(true);
  });

  it.each([
    '2026-02-30', // ClickHouse would read it as March 2nd
    '2023-02-29',
    '1900-02-29',
    '2026-13-01',
    '2026-00-10',
    '2026-01-00',
    '2026-1-01',
    '26-01-01',
    '2026/01/01',
    ' 2026-01-01',
    '2026-01-01 ',
    '2026-01-01\n',
    '2026-01-01T00:00:00Z',
    "2026-01-01') OR 1=1 --",
    '1969-12-31',
    '2106-01-01',
    '',
    '２０２６-01-01', // full-width digits are not \d in JS without /u, but keep it explicit
  ])('rejects %j', (d) => {
    expect(() => date(d)).toThrow(SqlFormatError);
    expect(isIsoDate(d)).toBe(false);
  });

  it('rejects non-strings', () => {
    expect(() => date(20260101 as unknown as string)).toThrow(SqlFormatError);
    expect(() => date(null as unknown as string)).toThrow(SqlFormatError);
  });
});

describe('ident', () => {
  it.each(['requests', 'schema_migrations', '_x', 'crm_reporting_mk2_1', 'A1'])('accepts %s', (name) => {
    expect(ident(name).text).toBe(name);
  });

  it.each(['', '1abc', 'a-b', 'a b', 'a;b', 'a.b', 'a`b', "a'b", 'a\nb', 'réport', 'requests; DROP TABLE x', 'x'.repeat(129)])('rejects %j', (name) => {
    expect(() => ident(name)).toThrow(SqlFormatError);
  });
});

describe('num', () => {
  it.each([
    [0, '0'],
    [-0, '0'],
    [42, '42'],
    [-7, '-7'],
    [1.5, '1.5'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [1e-7, '1e-7'],
  ])('renders %p as %s', (n, expected) => {
    expect(num(n).text).toBe(expected);
  });

  it.each([NaN, Infinity, -Infinity, 2 ** 60, '1' as unknown as number, '1; DROP TABLE x' as unknown as number])('rejects %p', (n) => {
    expect(() => num(n)).toThrow(SqlFormatError);
  });
});

describe('sql tag', () => {
  it('composes fragments', () => {
    const q = sql`SELECT ${list([ident('day'), ident('channel')])} FROM ${ident('requests')} WHERE tenant_id = ${str("t'1")} AND day >= ${date('2026-01-01')} LIMIT ${num(10)}`;
    expect(q.text).toBe("SELECT day, channel FROM requests WHERE tenant_id = 't\\'1' AND day >= toDate('2026-01-01') LIMIT 10");
    expect(String(q)).toBe(q.text);
  });

  it('refuses plain values at run time', () => {
    const tenant = "x' OR 1=1 --";
    expect(() => sql`SELECT 1 WHERE t = ${tenant as unknown as Sql}`).toThrow(SqlFormatError);
    expect(() => sql`SELECT ${1 as unknown as Sql}`).toThrow(SqlFormatError);
    expect(() => list(['a' as unknown as Sql])).toThrow(SqlFormatError);
  });

  it('cannot be forged from outside the module', () => {
    expect(() => new Sql(Symbol('sql'), 'DROP DATABASE x')).toThrow(SqlFormatError);
  });

  it('passes trusted code text through unchanged', () => {
    expect(trustedSql('CREATE TABLE t (a String) ENGINE = Memory').text).toBe('CREATE TABLE t (a String) ENGINE = Memory');
  });
});
