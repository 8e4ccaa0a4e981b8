import { canSee, visibilityFor, visibilitySql } from './visibility';

const ME = '0190a0a0-0000-7000-8000-000000000001';
const A = '0190a0a0-0000-7000-8000-00000000000a';
const B = '0190a0a0-0000-7000-8000-00000000000b';

describe('visibility', () => {
  it('admins, analysts, API keys and services see all', () => {
    expect(visibilitySql(visibilityFor({ tenantId: 't', callerId: ME, callerKind: 'user', roles: ['admin'] }))).toEqual({ sql: 'true', params: [] });
    expect(visibilitySql(visibilityFor({ tenantId: 't', callerId: ME, callerKind: 'user', roles: ['analyst'] })).sql).toBe('true');
    expect(visibilitySql(visibilityFor({ tenantId: 't', callerId: 'k1', callerKind: 'api_key' })).sql).toBe('true');
    expect(visibilitySql(visibilityFor({ tenantId: 't', callerId: 'svc', callerKind: 'service' })).sql).toBe('true');
  });

  it('a seller sees their own and their departments', () => {
    const v = visibilityFor({ tenantId: 't', callerId: ME, callerKind: 'user', roles: ['seller'], departmentIds: [A], headedDepartmentIds: [B] });
    expect(visibilitySql(v)).toEqual({ sql: '(assignee_id = ?::uuid OR department_id IN (?::uuid))', params: [ME, A] });
    expect(visibilitySql(v, 'r').sql).toBe('(r.assignee_id = ?::uuid OR r.department_id IN (?::uuid))');
    expect(canSee(v, { assigneeId: ME, departmentId: B })).toBe(true);
    expect(canSee(v, { assigneeId: null, departmentId: A })).toBe(true);
    expect(canSee(v, { assigneeId: null, departmentId: B })).toBe(false);
    expect(canSee(v, { assigneeId: null, departmentId: null })).toBe(false);
  });

  it('a head sees headed and member departments and the requests with no department', () => {
    const v = visibilityFor({ tenantId: 't', callerId: ME, callerKind: 'user', roles: ['head_of_sales'], departmentIds: [A], headedDepartmentIds: [B] });
    expect(visibilitySql(v)).toEqual({ sql: '(assignee_id = ?::uuid OR department_id IN (?::uuid, ?::uuid) OR department_id IS NULL)', params: [ME, A, B] });
    expect(canSee(v, { assigneeId: null, departmentId: B })).toBe(true);
    expect(canSee(v, { assigneeId: null, departmentId: null })).toBe(true);
  });

  it('a user call without roles sees only its own; a caller id that is no UUID sees nothing', () => {
    const v = visibilityFor({ tenantId: 't', callerId: ME, callerKind: 'user' });
    expect(visibilitySql(v)).toEqual({ sql: '(assignee_id = ?::uuid)', params: [ME] });
    expect(visibilitySql(visibilityFor({ tenantId: 't', callerId: 'user-1', callerKind: 'user', roles: ['seller'] })).sql).toBe('false');
  });
});
