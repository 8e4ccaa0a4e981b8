import { Role } from '@crm/contracts/crm/identity/v1/identity';
import { DepartmentKind } from '@crm/contracts/crm/identity/v1/team';
import { DomainError } from '@crm/errors';
import { apiKeyOut, auditEntryOut, DEPARTMENT_KINDS, fieldMappingIn, instantIn, ROLES, scheduleIn, scheduleOut, teamUserOut } from './team-mappers';

describe('team mappers', () => {
  it('speaks roles and department kinds in words, both ways', () => {
    expect(ROLES.words).toEqual(['admin', 'head_of_sales', 'seller', 'analyst']);
    expect(ROLES.in('head_of_sales')).toBe(Role.ROLE_HEAD_OF_SALES);
    expect(ROLES.out(Role.ROLE_SELLER)).toBe('seller');
    expect(DEPARTMENT_KINDS.in('support')).toBe(DepartmentKind.DEPARTMENT_KIND_SUPPORT);
    expect(DEPARTMENT_KINDS.out(DepartmentKind.DEPARTMENT_KIND_UNSPECIFIED)).toBe('unspecified');
  });

  it('reads any RFC 3339 offset as UTC, refuses anything else with a 400 naming the field', () => {
    expect(instantIn('until', '2030-01-10T09:00:00+03:00')).toBe('2030-01-10T06:00:00Z');
    expect(instantIn('until', undefined)).toBe('');
    expect(() => instantIn('until', '2030-02-30T09:00:00Z')).toThrow(DomainError);
    let caught: unknown;
    try {
      instantIn('starts_at', 'tomorrow');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DomainError);
    expect((caught as DomainError).violations).toEqual([{ field: 'starts_at', message: 'must be an RFC 3339 date-time' }]);
  });

  it('leaves empty optional times out and drops unknown roles', () => {
    const u = teamUserOut({
      id: 'u',
      email: 'a@b.c',
      displayName: 'A',
      roles: [Role.ROLE_SELLER, Role.ROLE_UNSPECIFIED],
      departmentIds: ['d'],
      headedDepartmentIds: [],
      active: true,
      invited: false,
      away: false,
      awayUntil: '',
      createdAt: '2030-01-01T00:00:00Z',
      updatedAt: '2030-01-01T00:00:00Z',
      deactivatedAt: '',
    });
    expect(u.roles).toEqual(['seller']);
    expect(u).not.toHaveProperty('away_until');
    expect(u).not.toHaveProperty('deactivated_at');
    const k = apiKeyOut({ id: 'k', tenantId: 't', name: 'n', prefix: 'abcdefgh', scopes: ['team:read'], createdAt: 'x', revokedAt: undefined, lastUsedAt: '' });
    expect(k).not.toHaveProperty('revoked_at');
    expect(k).not.toHaveProperty('last_used_at');
  });

  it('maps schedules and field mappings both ways, absent stays absent', () => {
    expect(scheduleIn(undefined)).toBeUndefined();
    expect(scheduleIn({ hours: [{ weekday: 1, from: '09:00', to: '18:00' }] })).toEqual({ timeZone: '', hours: [{ weekday: 1, from: '09:00', to: '18:00' }], holidays: [] });
    expect(scheduleOut(undefined)).toEqual({ time_zone: '', hours: [], holidays: [] });
    expect(fieldMappingIn(undefined)).toBeUndefined();
    expect(fieldMappingIn({})).toEqual({ name: [], phone: [], email: [], message: [] });
  });

  it("turns the audit entry's details JSON into an object, anything else into {}", () => {
    const base = { id: '1', at: 'x', actorKind: 'user', actorId: 'u', action: 'user.invited', targetKind: 'user', targetId: 'u' };
    expect(auditEntryOut({ ...base, detailsJson: '{"after":{"active":true}}' }).details).toEqual({ after: { active: true } });
    expect(auditEntryOut({ ...base, detailsJson: '' }).details).toEqual({});
    expect(auditEntryOut({ ...base, detailsJson: '[1]' }).details).toEqual({});
    expect(auditEntryOut({ ...base, detailsJson: 'not json' }).details).toEqual({});
  });
});
