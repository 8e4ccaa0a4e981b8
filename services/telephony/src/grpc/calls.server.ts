import { CallServiceService } from '@crm/contracts/crm/telephony/v1/telephony';
import { registration, type ServiceRegistration } from '@crm/grpc';
import type { TelephonyContext } from '../context';
import { notYet } from '../not-yet';

export const CALL_SERVICE_NAME = 'crm.telephony.v1.CallService';

/** crm.telephony.v1.CallService: translation only (the work is in ../calls/). */
export function callsServer(ctx: TelephonyContext): ServiceRegistration {
  void ctx;
  return registration(CALL_SERVICE_NAME, CallServiceService, {
    getCall: notYet('GetCall'),
    listCalls: notYet('ListCalls'),
    listCallEvents: notYet('ListCallEvents'),
    originate: notYet('Originate'),
    transfer: notYet('Transfer'),
    missedCallStats: notYet('MissedCallStats'),
    fetchRecording: notYet('FetchRecording'),
  });
}
