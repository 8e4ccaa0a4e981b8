import { PointType } from '@crm/contracts/crm/contacts/v1/contacts';
import { status } from '@crm/grpc';
import { failureOutcome, pointsOf } from './contacts';

describe('pointsOf', () => {
  it('the phone first, then the e-mail, unverified; nothing without either', () => {
    expect(pointsOf({ phone: '+79991234567', email: 'a@b.ru' })).toEqual([
      { type: PointType.POINT_TYPE_PHONE, value: '+79991234567', network: '', verified: false },
      { type: PointType.POINT_TYPE_EMAIL, value: 'a@b.ru', network: '', verified: false },
    ]);
    expect(pointsOf({ phone: null, email: 'a@b.ru' })).toHaveLength(1);
    expect(pointsOf({ phone: null, email: null })).toEqual([]);
  });
});

describe('failureOutcome', () => {
  const err = (code: number, details = 'x') => Object.assign(new Error(`${code} ${details}`), { code, details });

  it('answers about the input are refusals (retrying the same points gives the same)', () => {
    for (const code of [status.INVALID_ARGUMENT, status.FAILED_PRECONDITION, status.ALREADY_EXISTS, status.NOT_FOUND]) {
      expect(failureOutcome(err(code, 'bad point')).kind).toBe('refused');
    }
    expect(failureOutcome(err(status.INVALID_ARGUMENT, 'phone is not a phone number'))).toEqual({ kind: 'refused', reason: 'INVALID_ARGUMENT: phone is not a phone number' });
  });

  it('down, slow, overloaded, broken or unknown is unavailable: the backfill tries again later', () => {
    for (const code of [status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED, status.INTERNAL, status.UNKNOWN, status.UNIMPLEMENTED, status.CANCELLED]) {
      expect(failureOutcome(err(code)).kind).toBe('unavailable');
    }
    expect(failureOutcome(new Error('socket hang up'))).toEqual({ kind: 'unavailable', reason: 'UNKNOWN: socket hang up' });
  });

  it('keeps the reason short', () => {
    expect((failureOutcome(err(status.INVALID_ARGUMENT, 'x'.repeat(2000))) as { reason: string }).reason.length).toBe(500);
  });
});
