import { DomainError, NotFoundError, ValidationError } from '@crm/errors';
import { status, type ServiceError } from '@grpc/grpc-js';
import { fromServiceError, toServiceError } from './errors';

function roundTrip(err: unknown): DomainError {
  const e = toServiceError(err);
  return fromServiceError({ ...e, message: e.details ?? '', name: 'Error' } as ServiceError);
}

describe('domain error ↔ gRPC status', () => {
  it.each([
    [new NotFoundError('request', 'r1'), status.NOT_FOUND],
    [new ValidationError('bad', [{ field: 'phone', message: 'invalid' }]), status.INVALID_ARGUMENT],
    [new DomainError('PERMISSION_DENIED', 'no'), status.PERMISSION_DENIED],
    [new DomainError('UNAUTHENTICATED', 'who?'), status.UNAUTHENTICATED],
    [new DomainError('ALREADY_EXISTS', 'dup'), status.ALREADY_EXISTS],
    [new DomainError('FAILED_PRECONDITION', 'state'), status.FAILED_PRECONDITION],
  ])('%s maps to status %s and back', (err, code) => {
    expect(toServiceError(err).code).toBe(code);
    expect(roundTrip(err).code).toBe((err as DomainError).code);
  });

  it('keeps violations and the reason, not other details', () => {
    const back = roundTrip(
      new DomainError('FAILED_PRECONDITION', 'key reused', { details: { reason: 'idempotency_key_reused', secret: 'x' }, violations: [{ field: 'a', message: 'b' }] }),
    );
    expect(back.violations).toEqual([{ field: 'a', message: 'b' }]);
    expect(back.details.reason).toBe('idempotency_key_reused');
    expect(back.details.secret).toBeUndefined();
  });

  it('passes details.public (ids a caller may see) into the details', () => {
    const back = roundTrip(new DomainError('ALREADY_EXISTS', 'owned', { details: { reason: 'point_owned', public: { owner_contact_id: 'c1' }, secret: 'x' } }));
    expect(back.details).toMatchObject({ reason: 'point_owned', owner_contact_id: 'c1' });
    expect(back.details.secret).toBeUndefined();
  });

  it('hides the message of an unexpected error behind INTERNAL', () => {
    const e = toServiceError(new Error('connection string postgres://secret@db'));
    expect(e.code).toBe(status.INTERNAL);
    expect(e.details).toBe('internal error');
  });
});
