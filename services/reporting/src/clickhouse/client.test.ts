import { DomainError } from '@crm/errors';
import { isConnectionError, readFailure } from './client';

// Shapes as @clickhouse/client 1.23 throws them (checked against a refused port and 18.16).
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
const sqlError = Object.assign(new Error('Code: 47, e.displayText() = DB::Exception: Unknown identifier: nope'), { code: '47' });

describe('readFailure', () => {
  it('turns an unreachable server into UNAVAILABLE', () => {
    expect(isConnectionError(refused)).toBe(true);
    expect(isConnectionError(new Error('socket hang up'))).toBe(true);
    const mapped = readFailure(refused);
    expect(mapped).toBeInstanceOf(DomainError);
    expect((mapped as DomainError).code).toBe('UNAVAILABLE');
    expect((mapped as DomainError).message).not.toMatch(/127\.0\.0\.1/);
  });

  it('leaves SQL errors and domain errors alone (a SQL error becomes INTERNAL without detail)', () => {
    expect(isConnectionError(sqlError)).toBe(false);
    expect(readFailure(sqlError)).toBe(sqlError);
    const domain = new DomainError('INVALID_ARGUMENT', 'x');
    expect(readFailure(domain)).toBe(domain);
  });
});
