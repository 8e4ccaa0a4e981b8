import { ConnectionServiceService } from '@crm/contracts/crm/telephony/v1/telephony';
import { registration, type ServiceRegistration } from '@crm/grpc';
import { ConnectionsService } from '../connections/connections.service';
import type { TelephonyContext } from '../context';

export const CONNECTION_SERVICE_NAME = 'crm.telephony.v1.ConnectionService';

/** crm.telephony.v1.ConnectionService: translation only (the work is in ../connections/). */
export function connectionsServer(ctx: TelephonyContext): ServiceRegistration {
  const connections = new ConnectionsService(ctx);
  return registration(CONNECTION_SERVICE_NAME, ConnectionServiceService, {
    createConnection: (req, c) => connections.create(c, req.connection),
    updateConnection: async (req, c) => ({ connection: await connections.update(c, req) }),
    getConnection: async (req, c) => ({ connection: await connections.get(c, req.id) }),
    listConnections: (req, c) => connections.list(c, req),
    rotateSecret: (req, c) => connections.rotate(c, req.id),
    setExtension: async (req, c) => ({ extension: await connections.setExtension(c, req) }),
    deleteExtension: async (req, c) => {
      await connections.deleteExtension(c, req.id);
      return {};
    },
    listExtensions: (req, c) => connections.listExtensions(c, req),
  });
}
