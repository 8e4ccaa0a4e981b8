import { DomainError } from '@crm/errors';
import { decodeCursor, encodeCursor } from './cursor';

const cursor = { createdAt: '2026-11-27T10:11:12.345Z', id: '01936f5e-1234-7abc-8def-0123456789ab' };

describe('cursor', () => {
  it('round-trips and is url-safe', () => {
    const encoded = encodeCursor(cursor);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(encoded)).toEqual(cursor);
  });

  it.each([
    ['not base64url', 'abc$%'],
    ['not JSON', Buffer.from('{nope').toString('base64url')],
    ['another version', Buffer.from(JSON.stringify({ v: 2, t: cursor.createdAt, i: cursor.id })).toString('base64url')],
    ['a bad time', Buffer.from(JSON.stringify({ v: 1, t: '2026-13-45T99:00:00.000Z', i: cursor.id })).toString('base64url')],
    ['a time without ms', Buffer.from(JSON.stringify({ v: 1, t: '2026-11-27T10:11:12Z', i: cursor.id })).toString('base64url')],
    ['a bad id', Buffer.from(JSON.stringify({ v: 1, t: cursor.createdAt, i: "1' OR 1=1" })).toString('base64url')],
    ['null', Buffer.from('null').toString('base64url')],
    ['too long', 'a'.repeat(600)],
  ])('rejects %s with a violation on cursor', (_what, value) => {
    try {
      decodeCursor(value);
      throw new Error('expected a ValidationError');
    } catch (err) {
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).code).toBe('INVALID_ARGUMENT');
      expect((err as DomainError).violations).toEqual([{ field: 'cursor', message: 'is malformed' }]);
    }
  });
});
