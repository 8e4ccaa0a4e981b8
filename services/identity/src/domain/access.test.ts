import { Role } from '@crm/contracts/crm/identity/v1/identity';
import { mayManage, roleName, rolesToWire, scopesForRoles } from './access';

describe('roles, scopes and who may manage identity', () => {
  it('round-trips roles between the wire enum and stored names', () => {
    expect([Role.ROLE_ADMIN, Role.ROLE_HEAD_OF_SALES, Role.ROLE_SELLER, Role.ROLE_ANALYST].map(roleName)).toEqual(['admin', 'head_of_sales', 'seller', 'analyst']);
    expect(roleName(Role.ROLE_UNSPECIFIED)).toBeUndefined();
    expect(rolesToWire(['seller', 'admin', 'gone'])).toEqual([Role.ROLE_SELLER, Role.ROLE_ADMIN]);
  });

  it('grants users the union of their roles’ scopes; only admin gets identity:admin', () => {
    expect(scopesForRoles(['admin'])).toEqual([
      'requests:read',
      'requests:write',
      'reports:read',
      'contacts:read',
      'contacts:write',
      'team:read',
      'tasks:read',
      'tasks:write',
      'routing:write',
      'identity:admin',
      'deals:read',
      'deals:write',
      'pipelines:write',
      'calls:read',
      'calls:write',
      'telephony:admin',
    ]);
    expect(scopesForRoles(['seller'])).toEqual(['requests:read', 'requests:write', 'contacts:read', 'contacts:write', 'team:read', 'tasks:read', 'tasks:write', 'deals:read', 'deals:write', 'calls:read', 'calls:write']);
    expect(scopesForRoles(['analyst'])).toEqual(['requests:read', 'reports:read', 'contacts:read', 'team:read', 'deals:read', 'calls:read']);
    expect(scopesForRoles(['analyst', 'seller'])).toEqual(['requests:read', 'requests:write', 'reports:read', 'contacts:read', 'contacts:write', 'team:read', 'tasks:read', 'tasks:write', 'deals:read', 'deals:write', 'calls:read', 'calls:write']);
    expect(scopesForRoles(['head_of_sales'])).toContain('routing:write');
    expect(scopesForRoles(['seller'])).not.toContain('routing:write');
    expect(scopesForRoles(['head_of_sales'])).not.toContain('identity:admin');
    expect(scopesForRoles([])).toEqual([]);
  });

  it('lets services, admin users and identity:admin keys manage; nobody else', () => {
    expect(mayManage({ kind: 'service' })).toBe(true);
    expect(mayManage({ kind: 'user', roles: ['seller', 'admin'] })).toBe(true);
    expect(mayManage({ kind: 'user', roles: ['head_of_sales', 'seller', 'analyst'] })).toBe(false);
    expect(mayManage({ kind: 'api_key', scopes: ['identity:admin'] })).toBe(true);
    expect(mayManage({ kind: 'api_key', scopes: ['requests:read', 'requests:write', 'reports:read'] })).toBe(false);
  });
});
