/** Shared builders for the routing unit tests (not a test file itself). */
import { Channel } from '@crm/contracts/crm/intake/v1/request';
import { AssignmentStrategy, type RouteConditions, type RoutingRule } from '@crm/contracts/crm/intake/v1/routing';
import type { RosterDepartment, RosterUser } from '@crm/contracts/crm/identity/v1/team';
import type { Roster } from '../team';
import type { RouteFacts } from './evaluate';

export const D1 = '00000000-0000-7000-8000-00000000000a';
export const D2 = '00000000-0000-7000-8000-00000000000b';
export const D3 = '00000000-0000-7000-8000-00000000000c';
export const P1 = '00000000-0000-7000-8000-0000000000f1';
export const user = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;

export function rule(id: string, over: Partial<Omit<RoutingRule, 'when'>> & { when?: Partial<RouteConditions> } = {}): RoutingRule {
  return {
    id,
    name: `Rule ${id}`,
    departmentId: D1,
    strategy: AssignmentStrategy.ASSIGNMENT_STRATEGY_ROUND_ROBIN,
    ownerFirst: false,
    overflowDepartmentId: '',
    disabled: false,
    ...over,
    when: { channels: [], dialedNumberKinds: [], projectIds: [], utmSources: [], clientStates: [], owner: '', workingHours: '', ...(over.when ?? {}) },
  };
}

export function facts(over: Partial<RouteFacts> = {}): RouteFacts {
  return { channel: 'phone', dialedNumberKind: 'none', projectId: null, utmSource: null, clientState: 'none', ownerId: null, at: new Date('2026-12-01T10:00:00Z'), ...over };
}

export function dept(id: string, over: Partial<RosterDepartment> = {}): RosterDepartment {
  return { id, name: id, kind: 1, slaFirstResponseMinutes: 15, schedule: undefined, open: true, headUserIds: [], ...over };
}

export function rosterUser(id: string, departmentIds: string[], over: Partial<RosterUser> = {}): RosterUser {
  return { id, displayName: id, roles: [], departmentIds, away: false, onShift: true, ...over };
}

export function roster(departments: RosterDepartment[], users: RosterUser[]): Roster {
  return { at: new Date(), tenantTimeZone: 'Europe/Moscow', departments: new Map(departments.map((d) => [d.id, d])), users: new Map(users.map((u) => [u.id, u])) };
}

export { Channel, AssignmentStrategy };
