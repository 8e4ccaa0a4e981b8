import { DomainError } from '@crm/errors';
import { decodeKeyset, encodeKeyset, page, pageSize, TS_KEY_RE } from './keyset';
import { boundedText, containsPattern, ownerArg, searchKey } from './text';

const ID = '0190f5e2-7a1b-7c3d-8e4f-0123456789ab';
const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as DomainError).code;
  }
  return 'OK';
};

describe('keyset cursors', () => {
  it('round-trips a key and id for the list it was made for', () => {
    const c = encodeKeyset('timeline', { key: '2026-12-01T10:00:00.123456Z', id: ID });
    expect(decodeKeyset('timeline', c, TS_KEY_RE)).toEqual({ key: '2026-12-01T10:00:00.123456Z', id: ID });
    expect(decodeKeyset('companies', encodeKeyset('companies', { key: 'ромашка ооо', id: ID }))).toEqual({ key: 'ромашка ооо', id: ID });
  });

  it('refuses another list’s cursor, garbage, a bad id or a key of the wrong shape as INVALID_ARGUMENT', () => {
    const other = encodeKeyset('base:cold', { key: '2026-12-01T10:00:00.123456Z', id: ID });
    const bad = [
      other,
      'not base64!',
      Buffer.from('{"v":2,"l":"timeline","k":"x","i":"y"}').toString('base64url'),
      encodeKeyset('timeline', { key: '2026-12-01T10:00:00Z', id: ID }),
      encodeKeyset('timeline', { key: '2026-13-45T10:00:00.123456Z', id: ID }),
      encodeKeyset('timeline', { key: '2026-12-01T10:00:00.123456Z', id: 'nope' }),
      'A'.repeat(5000),
    ];
    for (const c of bad) expect(code(() => decodeKeyset('timeline', c, TS_KEY_RE))).toBe('INVALID_ARGUMENT');
  });

  it('reads page sizes 0 (default 25) and 1..100, refuses the rest', () => {
    expect(pageSize(0)).toBe(25);
    expect(pageSize(undefined)).toBe(25);
    expect(pageSize(100)).toBe(100);
    for (const n of [-1, 101, 1.5]) expect(code(() => pageSize(n))).toBe('INVALID_ARGUMENT');
  });

  it('gives a next cursor only when a row beyond the page came back', () => {
    const rows = [1, 2, 3].map((n) => ({ k: String(n), id: ID }));
    expect(page(rows.slice(0, 2), 2, 'x', (r) => ({ key: r.k, id: r.id })).nextCursor).toBe('');
    const p = page(rows, 2, 'x', (r) => ({ key: r.k, id: r.id }));
    expect(p.items).toHaveLength(2);
    expect(decodeKeyset('x', p.nextCursor)).toEqual({ key: '2', id: ID });
  });
});

describe('text arguments', () => {
  it('searches names lower-cased with ё as е and one space', () => {
    expect(searchKey('  ООО   «Ёлка» ')).toBe('ооо «елка»');
    expect(containsPattern('100%_a\\b')).toBe('%100\\%\\_a\\\\b%');
  });
  it('bounds text and refuses control characters; owner ids are plain ids', () => {
    expect(boundedText('reason', '  ok ', 1, 5)).toBe('ok');
    expect(code(() => boundedText('reason', '', 1, 5))).toBe('INVALID_ARGUMENT');
    expect(code(() => boundedText('reason', 'a\u0000b', 1, 5))).toBe('INVALID_ARGUMENT');
    expect(boundedText('reason', 'a\nb', 1, 5)).toBe('a\nb');
    expect(ownerArg('owner_id', 'user-1@x')).toBe('user-1@x');
    expect(code(() => ownerArg('owner_id', 'bad owner'))).toBe('INVALID_ARGUMENT');
  });
});
