import { DomainError, NotFoundError, ValidationError } from '@crm/errors';
import { Metadata, status } from '@crm/grpc';
import { retryAfterSeconds, toProblem } from './problem';

function grpcError(code: number, details: string, md: Record<string, string> = {}) {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(md)) metadata.set(k, v);
  return Object.assign(new Error(details), { code, details, metadata });
}

describe('toProblem', () => {
  it('maps domain errors to HTTP with the field violations', () => {
    expect(toProblem(new NotFoundError('request', 'x'))).toMatchObject({ status: 404, title: 'Not Found' });
    expect(toProblem(new ValidationError('bad', [{ field: 'phone', message: 'invalid' }]))).toMatchObject({ status: 400, errors: [{ field: 'phone', message: 'invalid' }] });
    expect(toProblem(new DomainError('PERMISSION_DENIED', 'no'))).toMatchObject({ status: 403 });
    expect(toProblem(new DomainError('RESOURCE_EXHAUSTED', 'slow down'))).toMatchObject({ status: 429 });
  });

  it('maps gRPC statuses from the services, the idempotency reason to 422', () => {
    expect(toProblem(grpcError(status.NOT_FOUND, 'request r1 not found'))).toMatchObject({ status: 404, detail: 'request r1 not found' });
    expect(toProblem(grpcError(status.UNAUTHENTICATED, 'invalid credentials'))).toMatchObject({ status: 401 });
    expect(toProblem(grpcError(status.FAILED_PRECONDITION, 'Idempotency-Key reused', { 'x-error-reason': 'idempotency_key_reused' }))).toMatchObject({ status: 422 });
    expect(toProblem(grpcError(status.FAILED_PRECONDITION, 'wrong state'))).toMatchObject({ status: 409 });
    expect(toProblem(grpcError(status.DEADLINE_EXCEEDED, 'deadline'))).toMatchObject({ status: 504 });
    expect(toProblem(grpcError(status.UNAVAILABLE, 'connect ECONNREFUSED'))).toMatchObject({ status: 503, detail: 'a service is unavailable; retry later' });
  });

  it('names the owner of a taken contact point or tax id in the 409, from the details the service exposed', () => {
    const contact = '01936f5e-1234-7abc-8def-0123456789ab';
    const owned = grpcError(status.ALREADY_EXISTS, 'the phone belongs to another contact', {
      'x-error-code': 'ALREADY_EXISTS',
      'x-error-reason': 'point_owned',
      'x-error-details': JSON.stringify({ owner_contact_id: contact }),
    });
    expect(toProblem(owned)).toMatchObject({ status: 409, code: 'ALREADY_EXISTS', owner_contact_id: contact, owner: `/v1/contacts/${contact}` });
    const taxId = new DomainError('ALREADY_EXISTS', 'tax id taken', { details: { owner_company_id: contact } });
    expect(toProblem(taxId)).toMatchObject({ status: 409, owner_company_id: contact, owner: `/v1/companies/${contact}` });
    // Only ids: anything else in the details stays out of the problem.
    const odd = new DomainError('ALREADY_EXISTS', 'taken', { details: { owner_contact_id: 'DROP TABLE' } });
    expect(toProblem(odd)).not.toHaveProperty('owner');
  });

  it('carries retry_at and its reason from a login lock, and Retry-After is whole seconds, at least 1', () => {
    const locked = grpcError(status.RESOURCE_EXHAUSTED, 'too many failed sign-in attempts; try again after 2026-12-01T18:15:00Z', {
      'x-error-code': 'RESOURCE_EXHAUSTED',
      'x-error-reason': 'account_locked',
      'x-error-details': JSON.stringify({ retry_at: '2026-12-01T18:15:00Z' }),
    });
    expect(toProblem(locked)).toMatchObject({ status: 429, retry_at: '2026-12-01T18:15:00Z', reason: 'account_locked', detail: expect.stringContaining('try again after') });
    expect(toProblem(grpcError(status.RESOURCE_EXHAUSTED, 'x', { 'x-error-details': JSON.stringify({ retry_at: 'soon' }) }))).not.toHaveProperty('retry_at');
    const at = Date.parse('2026-12-01T18:15:00Z');
    expect(retryAfterSeconds('2026-12-01T18:15:00Z', at - 2500)).toBe(3);
    expect(retryAfterSeconds('2026-12-01T18:15:00Z', at + 5000)).toBe(1);
  });

  it('never leaks the internals of a 5xx', () => {
    expect(toProblem(new Error('password authentication failed for user postgres'))).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'internal error' });
    expect(toProblem(grpcError(status.INTERNAL, 'relation "requests" does not exist')).detail).toBe('internal error');
  });

  it('turns schema validation errors into field violations', () => {
    const err = Object.assign(new Error('body/admin must NOT have additional properties'), {
      validation: [
        { keyword: 'additionalProperties', instancePath: '', params: { additionalProperty: 'admin' }, message: 'must NOT have additional properties' },
        { keyword: 'required', instancePath: '/attribution', params: { missingProperty: 'x' }, message: "must have required property 'x'" },
        { keyword: 'maxLength', instancePath: '/name', params: {}, message: 'must NOT have more than 200 characters' },
      ],
      validationContext: 'body',
    });
    expect(toProblem(err)).toMatchObject({
      status: 400,
      detail: 'invalid body',
      errors: [
        { field: 'admin', message: 'unknown field' },
        { field: 'attribution.x', message: 'is required' },
        { field: 'name', message: 'must NOT have more than 200 characters' },
      ],
    });
  });
});
