import { Role } from '@crm/contracts/crm/identity/v1/identity';

/**
 * Roles and scopes. Roles are stored by name; the wire uses the Role enum. Users get the scopes their
 * roles grant; API keys carry explicit scopes from the known list.
 */
export type RoleName = 'admin' | 'head_of_sales' | 'seller' | 'analyst';

const ROLE_NAMES: Record<Exclude<Role, Role.ROLE_UNSPECIFIED>, RoleName> = {
  [Role.ROLE_ADMIN]: 'admin',
  [Role.ROLE_HEAD_OF_SALES]: 'head_of_sales',
  [Role.ROLE_SELLER]: 'seller',
  [Role.ROLE_ANALYST]: 'analyst',
};
const ROLE_BY_NAME = new Map<string, Role>(Object.entries(ROLE_NAMES).map(([k, v]) => [v, Number(k) as Role]));

/** The name of a wire role, or undefined for ROLE_UNSPECIFIED and numbers outside the enum. */
export function roleName(role: Role): RoleName | undefined {
  return (ROLE_NAMES as Record<number, RoleName | undefined>)[role];
}

/** Stored names back to wire roles (unknown names are dropped). */
export function rolesToWire(names: readonly string[]): Role[] {
  return names.map((n) => ROLE_BY_NAME.get(n)).filter((r): r is Role => r !== undefined);
}

export const SCOPES = ['requests:read', 'requests:write', 'reports:read', 'contacts:read', 'contacts:write', 'team:read', 'tasks:read', 'tasks:write', 'routing:write', 'identity:admin', 'deals:read', 'deals:write', 'pipelines:write', 'calls:read', 'calls:write', 'telephony:admin'] as const;
export type Scope = (typeof SCOPES)[number];
export const IDENTITY_ADMIN_SCOPE: Scope = 'identity:admin';

export function isKnownScope(scope: string): scope is Scope {
  return (SCOPES as readonly string[]).includes(scope);
}

const ROLE_SCOPES: Record<RoleName, readonly Scope[]> = {
  admin: SCOPES,
  head_of_sales: ['requests:read', 'requests:write', 'reports:read', 'contacts:read', 'contacts:write', 'team:read', 'tasks:read', 'tasks:write', 'routing:write', 'deals:read', 'deals:write', 'pipelines:write', 'calls:read', 'calls:write', 'telephony:admin'],
  seller: ['requests:read', 'requests:write', 'contacts:read', 'contacts:write', 'team:read', 'tasks:read', 'tasks:write', 'deals:read', 'deals:write', 'calls:read', 'calls:write'],
  analyst: ['requests:read', 'reports:read', 'contacts:read', 'team:read', 'deals:read', 'calls:read'],
};

/** The union of the scopes the roles grant, in the order of SCOPES. */
export function scopesForRoles(names: readonly string[]): Scope[] {
  const granted = new Set<Scope>();
  for (const n of names) for (const s of ROLE_SCOPES[n as RoleName] ?? []) granted.add(s);
  return SCOPES.filter((s) => granted.has(s));
}

/** Who may call the management RPCs: a service, an admin user, or an API key with identity:admin. */
export function mayManage(caller: { kind: 'service' } | { kind: 'user'; roles: readonly string[] } | { kind: 'api_key'; scopes: readonly string[] }): boolean {
  switch (caller.kind) {
    case 'service':
      return true;
    case 'user':
      return caller.roles.includes('admin');
    case 'api_key':
      return caller.scopes.includes(IDENTITY_ADMIN_SCOPE);
  }
}
