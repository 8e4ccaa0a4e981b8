import { DniServiceService, NumberServiceService } from '@crm/contracts/crm/telephony/v1/telephony';
import { registration, status, type ServiceError, type ServiceRegistration, type TenantContext } from '@crm/grpc';
import type { TelephonyContext } from '../context';
import { DniService } from '../dni/dni.service';
import { NumbersService, type TeamRefs } from '../numbers/numbers.service';

export const NUMBER_SERVICE_NAME = 'crm.telephony.v1.NumberService';
export const DNI_SERVICE_NAME = 'crm.telephony.v1.DniService';

/** crm.telephony.v1.NumberService: translation only (the work is in ../numbers/ and ../dni/). */
export function numbersServer(ctx: TelephonyContext): ServiceRegistration {
  // A number's project and department must be the tenant's own (identity's projects and departments).
  const teamRefs: TeamRefs = async (tenantId, refs) => {
    const svc: TenantContext = { tenantId, callerId: 'telephony', callerKind: 'service' };
    const [project, department] = await Promise.all([
      refs.projectId ? ctx.clients.team.listProjects({ includeArchived: false }, svc).then((r) => r.projects.some((p) => p.id === refs.projectId)) : true,
      refs.departmentId
        ? ctx.clients.team.getTeamDepartment({ id: refs.departmentId }, svc).then(
            () => true,
            (err: ServiceError) => {
              if (err.code === status.NOT_FOUND) return false;
              throw err;
            },
          )
        : true,
    ]);
    return { project, department };
  };
  const numbers = new NumbersService(ctx.orm, teamRefs);
  return registration(NUMBER_SERVICE_NAME, NumberServiceService, {
    createNumber: async (req, c) => ({ number: await numbers.createNumber(c, req) }),
    updateNumber: async (req, c) => ({ number: await numbers.updateNumber(c, req) }),
    getNumber: async (req, c) => ({ number: await numbers.getNumber(c, req.id) }),
    listNumbers: (req, c) => numbers.listNumbers(c, req),
    archiveNumber: async (req, c) => ({ number: await numbers.archiveNumber(c, req.id) }),
    createPool: async (req, c) => ({ pool: await numbers.createPool(c, req) }),
    updatePool: async (req, c) => ({ pool: await numbers.updatePool(c, req) }),
    getPool: async (req, c) => ({ pool: await numbers.getPool(c, req.id) }),
    listPools: (req, c) => numbers.listPools(c, req),
    getPoolStats: (req, c) => numbers.poolStats(c, req),
  });
}

/** crm.telephony.v1.DniService (called with tenant `platform`; the pool's public id says whose). */
export function dniServer(ctx: TelephonyContext): ServiceRegistration {
  const dni = new DniService(ctx.orm);
  return registration(DNI_SERVICE_NAME, DniServiceService, {
    lendNumber: (req) => dni.lend(req),
    heartbeat: (req) => dni.heartbeat(req),
  });
}
