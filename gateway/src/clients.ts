import { ClientCardsServiceService, CompaniesServiceService } from '@crm/contracts/crm/contacts/v1/cards';
import { ContactsServiceService } from '@crm/contracts/crm/contacts/v1/contacts';
import { ImportsServiceService } from '@crm/contracts/crm/contacts/v1/imports';
import { DealServiceService } from '@crm/contracts/crm/funnel/v1/deals';
import { PipelineServiceService } from '@crm/contracts/crm/funnel/v1/pipelines';
import { IdentityServiceService } from '@crm/contracts/crm/identity/v1/identity';
import { SecurityServiceService } from '@crm/contracts/crm/identity/v1/security';
import { TeamServiceService } from '@crm/contracts/crm/identity/v1/team';
import { IntakeServiceService } from '@crm/contracts/crm/intake/v1/intake';
import { RoutingServiceService } from '@crm/contracts/crm/intake/v1/routing';
import { TasksServiceService } from '@crm/contracts/crm/intake/v1/tasks';
import { WorkflowServiceService } from '@crm/contracts/crm/intake/v1/workflow';
import { ReportingServiceService } from '@crm/contracts/crm/reporting/v1/reporting';
import { CallServiceService, ConnectionServiceService, DniServiceService, NumberServiceService, WebhookServiceService } from '@crm/contracts/crm/telephony/v1/telephony';
import { createClient, type PromiseClient } from '@crm/grpc';

export interface Clients {
  identity: PromiseClient<typeof IdentityServiceService>;
  intake: PromiseClient<typeof IntakeServiceService>;
  reporting: PromiseClient<typeof ReportingServiceService>;
  contacts: PromiseClient<typeof ContactsServiceService>;
  companies: PromiseClient<typeof CompaniesServiceService>;
  clientCards: PromiseClient<typeof ClientCardsServiceService>;
  imports: PromiseClient<typeof ImportsServiceService>;
  team: PromiseClient<typeof TeamServiceService>;
  workflow: PromiseClient<typeof WorkflowServiceService>;
  routing: PromiseClient<typeof RoutingServiceService>;
  tasks: PromiseClient<typeof TasksServiceService>;
  security: PromiseClient<typeof SecurityServiceService>;
  pipelines: PromiseClient<typeof PipelineServiceService>;
  deals: PromiseClient<typeof DealServiceService>;
  numbers: PromiseClient<typeof NumberServiceService>;
  dni: PromiseClient<typeof DniServiceService>;
  connections: PromiseClient<typeof ConnectionServiceService>;
  webhooks: PromiseClient<typeof WebhookServiceService>;
  calls: PromiseClient<typeof CallServiceService>;
}

/** gRPC clients of the services behind the gateway; reads are retried, writes never. */
export function createClients(addr: { identity: string; intake: string; reporting: string; contacts: string; funnel: string; telephony: string }): Clients {
  return {
    identity: createClient(IdentityServiceService, {
      address: addr.identity,
      idempotent: ['authenticate', 'resolvePublicForm', 'getUser', 'listUsers', 'listDepartments', 'listApiKeys', 'listPublicForms', 'getTenant'],
    }),
    // CreateRequest carries an idempotency key, so a retry cannot create a second request.
    intake: createClient(IntakeServiceService, { address: addr.intake, idempotent: ['getRequest', 'listRequests', 'listComments'] }),
    reporting: createClient(ReportingServiceService, { address: addr.reporting, idempotent: ['requestsPerDay'], defaultDeadlineMs: 15_000 }),
    // The four services of contacts share one address (one process serves them all).
    contacts: createClient(ContactsServiceService, {
      address: addr.contacts,
      idempotent: ['getContact', 'listContacts', 'lookupContact', 'listDuplicates', 'listMerges', 'getTimeline'],
    }),
    companies: createClient(CompaniesServiceService, { address: addr.contacts, idempotent: ['getCompany', 'listCompanies'] }),
    clientCards: createClient(ClientCardsServiceService, { address: addr.contacts, idempotent: ['getClientCard', 'listClientCards', 'getClientCardHistory', 'listBase'] }),
    // AppendImportChunk is idempotent by (import, seq); an export page is a read.
    imports: createClient(ImportsServiceService, {
      address: addr.contacts,
      idempotent: ['getImport', 'listImports', 'listImportErrors', 'appendImportChunk', 'exportContacts'],
      defaultDeadlineMs: 30_000,
    }),
    team: createClient(TeamServiceService, {
      address: addr.identity,
      idempotent: ['listTeamUsers', 'getTeamUser', 'listTeamDepartments', 'getTeamDepartment', 'listProjects', 'listShifts', 'getRoster', 'listAuditEntries'],
    }),
    // Changes carry expected_version (a retried one fails on the version, never applies twice).
    workflow: createClient(WorkflowServiceService, { address: addr.intake, idempotent: ['getRequestHistory', 'countRequests', 'getMyWork', 'listViews'] }),
    routing: createClient(RoutingServiceService, { address: addr.intake, idempotent: ['getRoutingVersion', 'listRoutingVersions', 'validateRouting', 'simulateRoute'] }),
    tasks: createClient(TasksServiceService, { address: addr.intake, idempotent: ['getTask', 'listTasks'] }),
    // ConsumeQuota is not retried: a retry could take units twice (the limiter fails open instead).
    security: createClient(SecurityServiceService, {
      address: addr.identity,
      idempotent: ['listLoginLocks', 'listOwnSessions', 'listUserSessions', 'getOwnTwoFactor', 'getSecurityPolicy'],
      defaultDeadlineMs: 5_000,
    }),
    // The two services of funnel share one address. CreateDeal carries an idempotency key (a retry answers
    // the first deal); LinkRequest is idempotent by (deal, request).
    pipelines: createClient(PipelineServiceService, { address: addr.funnel, idempotent: ['validatePipeline', 'getPipeline', 'listPipelines', 'previewMigration'] }),
    deals: createClient(DealServiceService, {
      address: addr.funnel,
      idempotent: ['getDeal', 'listDeals', 'getDealHistory', 'getBoard', 'listStageDeals', 'listDealsOfRequest', 'linkRequest'],
    }),
    // The five services of telephony share one address. A provider's webhook is never retried here (the
    // provider retries; telephony is idempotent on its delivery id) and has a short deadline: the
    // gateway falls back to Kafka rather than keep a PBX waiting.
    numbers: createClient(NumberServiceService, { address: addr.telephony, idempotent: ['getNumber', 'listNumbers', 'getPool', 'listPools', 'getPoolStats'] }),
    dni: createClient(DniServiceService, { address: addr.telephony, idempotent: ['heartbeat'], defaultDeadlineMs: 2_000 }),
    connections: createClient(ConnectionServiceService, { address: addr.telephony, idempotent: ['getConnection', 'listConnections', 'listExtensions'] }),
    webhooks: createClient(WebhookServiceService, { address: addr.telephony, defaultDeadlineMs: 3_000 }),
    calls: createClient(CallServiceService, { address: addr.telephony, idempotent: ['getCall', 'listCalls', 'listCallEvents', 'missedCallStats', 'fetchRecording'] }),
  };
}

export function closeClients(c: Clients): void {
  c.identity.close();
  c.intake.close();
  c.reporting.close();
  c.contacts.close();
  c.companies.close();
  c.clientCards.close();
  c.imports.close();
  c.team.close();
  c.workflow.close();
  c.routing.close();
  c.tasks.close();
  c.pipelines.close();
  c.deals.close();
  c.security.close();
  c.numbers.close();
  c.dni.close();
  c.connections.close();
  c.webhooks.close();
  c.calls.close();
}
