import { IdentityServiceService } from '@crm/contracts/crm/identity/v1/identity';
import { IntakeServiceService } from '@crm/contracts/crm/intake/v1/intake';
import { ReportingServiceService } from '@crm/contracts/crm/reporting/v1/reporting';
import { createClient, type PromiseClient } from '@crm/grpc';

export interface Clients {
  identity: PromiseClient<typeof IdentityServiceService>;
  intake: PromiseClient<typeof IntakeServiceService>;
  reporting: PromiseClient<typeof ReportingServiceService>;
}

/** gRPC clients of the services behind the gateway; reads are retried, writes never. */
export function createClients(addr: { identity: string; intake: string; reporting: string }): Clients {
  return {
    identity: createClient(IdentityServiceService, {
      address: addr.identity,
      idempotent: ['authenticate', 'resolvePublicForm', 'getUser', 'listUsers', 'listDepartments', 'listApiKeys', 'listPublicForms', 'getTenant'],
    }),
    // CreateRequest carries an idempotency key, so a retry cannot create a second request.
    intake: createClient(IntakeServiceService, { address: addr.intake, idempotent: ['getRequest', 'listRequests', 'listComments'] }),
    reporting: createClient(ReportingServiceService, { address: addr.reporting, idempotent: ['requestsPerDay'], defaultDeadlineMs: 15_000 }),
  };
}

export function closeClients(c: Clients): void {
  c.identity.close();
  c.intake.close();
  c.reporting.close();
}
