import { DomainError } from '@crm/errors';
import { prepareComment, prepareId } from './comment';

const id = '01936f5e-1234-7abc-8def-0123456789ab';

function fields(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect((err as DomainError).code).toBe('INVALID_ARGUMENT');
    return (err as DomainError).violations.map((v) => `${v.field}: ${v.message}`);
  }
  throw new Error('expected a ValidationError');
}

describe('prepareComment', () => {
  it('trims the text and keeps 1..4000 characters', () => {
    expect(prepareComment(id.toUpperCase(), '  called back, no answer \n')).toEqual({ requestId: id, text: 'called back, no answer' });
    expect(prepareComment(id, 'ю'.repeat(4000)).text).toHaveLength(4000);
  });

  it('rejects empty, whitespace-only and oversized text, and a bad request id, all at once', () => {
    expect(fields(() => prepareComment(id, '   '))).toEqual(['text: must not be empty']);
    expect(fields(() => prepareComment(id, 'x'.repeat(4001)))).toEqual(['text: must be at most 4000 characters']);
    // PostgreSQL text holds no NUL; a fuzzer's comment with one was a 500.
    expect(fields(() => prepareComment(id, 'a\u0000b'))).toEqual(['text: must not contain NUL characters']);
    expect(fields(() => prepareComment('42', ''))).toEqual(['request_id: must be a UUID', 'text: must not be empty']);
  });
});

describe('prepareId', () => {
  it('requires a UUID', () => {
    expect(prepareId('GetRequest', 'id', id)).toBe(id);
    expect(fields(() => prepareId('GetRequest', 'id', ''))).toEqual(['id: is required']);
    expect(fields(() => prepareId('GetRequest', 'id', "1' OR 1=1"))).toEqual(['id: must be a UUID']);
  });
});
