import { isUuid, uuidv7 } from './ids';

describe('uuidv7', () => {
  it('is a valid version-7 UUID carrying the timestamp', () => {
    const now = Date.UTC(2026, 10, 27, 9, 0, 0);
    const id = uuidv7(now + 10_000);
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe('7');
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(now + 10_000);
  });

  it('is strictly increasing within one millisecond', () => {
    const t = Date.now() + 60_000;
    const ids = Array.from({ length: 5000 }, () => uuidv7(t));
    const sorted = [...ids].sort();
    expect(sorted).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('rejects what is not a UUID', () => {
    expect(isUuid('not-a-uuid')).toBe(false);
    expect(isUuid('')).toBe(false);
  });
});
