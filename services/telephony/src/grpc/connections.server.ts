import { ConnectionServiceService } from '@crm/contracts/crm/telephony/v1/telephony';
import { registration, type ServiceRegistration } from '@crm/grpc';
import type { TelephonyContext } from '../context';
import { notYet } from '../not-yet';

export const CONNECTION_SERVICE_NAME = 'crm.telephony.v1.ConnectionService';

/** crm.telephony.v1.ConnectionService: translation only (the work is in ../connections/). */
export function connectionsServer(ctx: TelephonyContext): ServiceRegistration {
  void ctx;
  return registration(CONNECTION_SERVICE_NAME, ConnectionServiceService, {
    createConnection: notYet('CreateConnection'),
    updateConnection: notYet('UpdateConnection'),
    getConnection: notYet('GetConnection'),
    listConnections: notYet('ListConnections'),
    rotateSecret: notYet('RotateSecret'),
    setExtension: notYet('SetExtension'),
    deleteExtension: notYet('DeleteExtension'),
    listExtensions: notYet('ListExtensions'),
  });
}
