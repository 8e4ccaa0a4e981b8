import { CallServiceService } from '@crm/contracts/crm/telephony/v1/telephony';
import { registration, type ServiceRegistration } from '@crm/grpc';
import { CallService } from '../calls/service';
import type { TelephonyContext } from '../context';
import type { CallDecider } from '../decide/decide';

export const CALL_SERVICE_NAME = 'crm.telephony.v1.CallService';

/** crm.telephony.v1.CallService: translation only (the work is in ../calls/service.ts). */
export function callsServer(ctx: TelephonyContext, decider?: CallDecider): ServiceRegistration {
  const calls = new CallService(ctx, decider ? (tenantId, departmentId) => decider.departmentMembersOnShift(tenantId, departmentId) : undefined);
  return registration(CALL_SERVICE_NAME, CallServiceService, {
    getCall: async (req, tenant) => ({ call: await calls.get(tenant, req.id) }),
    listCalls: async (req, tenant) => calls.list(tenant, req),
    listCallEvents: async (req, tenant) => ({ events: await calls.events(tenant, req.callId) }),
    originate: async (req, tenant) => ({ call: await calls.originate(tenant, req) }),
    transfer: async (req, tenant) => ({ call: await calls.transfer(tenant, req) }),
    missedCallStats: async (req, tenant) => calls.missedStats(tenant, req),
    fetchRecording: async (req, tenant) => calls.recording(tenant, { callId: req.callId, offset: Number(req.offset), limit: req.limit }),
  });
}
