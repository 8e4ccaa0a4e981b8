import { DomainError, NotFoundError, ValidationError } from '@crm/errors';
import { Metadata, status } from '@crm/grpc';
import { toProblem } from './problem';

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
