/**
 * identity's TeamService as the workflow tests need it: a real gRPC server on a free port answering
 * GetRoster from a roster the test sets per tenant (every other method is UNIMPLEMENTED), and a switch
 * that makes it answer UNAVAILABLE (identity down). intake talks to it exactly as to identity.
 */
import { Role } from '@crm/contracts/crm/identity/v1/identity';
import { TeamServiceService, type GetRosterResponse, type RosterDepartment, type RosterUser } from '@crm/contracts/crm/identity/v1/team';
import { DomainError } from '@crm/errors';
import { registration, startGrpcServer, type RunningGrpcServer, type ServiceHandlers } from '@crm/grpc';
import { testLogger } from '@crm/testing';

export interface TeamDouble {
  addr: string;
  setRoster(tenantId: string, roster: { timeZone?: string; departments: Partial<RosterDepartment>[]; users: Partial<RosterUser>[] }): void;
  /** identity unreachable (UNAVAILABLE on every call) while true. */
  down: boolean;
  stop(): Promise<void>;
}

export async function startTeamDouble(): Promise<TeamDouble> {
  const rosters = new Map<string, GetRosterResponse>();
  const state = { down: false };
  const getRoster: ServiceHandlers<typeof TeamServiceService>['getRoster'] = async (_req, ctx) => {
    if (state.down) throw new DomainError('UNAVAILABLE', 'identity is down (test)');
    return rosters.get(ctx.tenantId) ?? { at: new Date().toISOString(), tenantTimeZone: 'UTC', departments: [], users: [] };
  };
  const handlers = {
    ...Object.fromEntries(
      Object.keys(TeamServiceService).map((m) => [
        m,
        async () => {
          throw new DomainError('FAILED_PRECONDITION', `${m} is not part of the test double`);
        },
      ]),
    ),
    getRoster,
  } as unknown as ServiceHandlers<typeof TeamServiceService>;
  const server: RunningGrpcServer = await startGrpcServer({
    services: [registration('crm.identity.v1.TeamService', TeamServiceService, handlers)],
    logger: testLogger('team-double'),
    host: '127.0.0.1',
    port: 0,
  });
  return {
    addr: `127.0.0.1:${server.port}`,
    setRoster(tenantId, r) {
      rosters.set(tenantId, {
        at: new Date().toISOString(),
        tenantTimeZone: r.timeZone ?? 'UTC',
        departments: r.departments.map((d) => ({ id: '', name: '', kind: 0, slaFirstResponseMinutes: 0, schedule: undefined, open: true, headUserIds: [], ...d })),
        users: r.users.map((u) => ({ id: '', displayName: '', roles: [Role.ROLE_SELLER], departmentIds: [], away: false, onShift: true, ...u })),
      });
    },
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    stop: () => server.shutdown(1000),
  };
}
