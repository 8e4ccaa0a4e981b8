import { DomainError } from '@crm/errors';
import { Metadata } from '@grpc/grpc-js';
import { readTenantContext, writeTenantContext } from './context';

describe('tenant context metadata', () => {
  it('round-trips', () => {
    const md = writeTenantContext(new Metadata(), { tenantId: 't-1', callerId: 'u-1', callerKind: 'user' });
    expect(readTenantContext(md)).toEqual({ tenantId: 't-1', callerId: 'u-1', callerKind: 'user' });
  });

  it('requires the tenant and the caller', () => {
    expect(() => readTenantContext(new Metadata())).toThrow(/x-tenant-id is required/);
    const md = new Metadata();
    md.set('x-tenant-id', 't');
    expect(() => readTenantContext(md)).toThrow(/x-caller-id is required/);
  });

  it('rejects malformed values as INVALID_ARGUMENT', () => {
    const md = new Metadata();
    md.set('x-tenant-id', "t'; drop");
    md.set('x-caller-id', 'u');
    let err: unknown;
    try {
      readTenantContext(md);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('INVALID_ARGUMENT');
    const kind = new Metadata();
    kind.set('x-tenant-id', 't');
    kind.set('x-caller-id', 'u');
    kind.set('x-caller-kind', 'root');
    expect(() => readTenantContext(kind)).toThrow(/x-caller-kind/);
  });
});
