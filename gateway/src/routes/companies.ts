import { CreateCompanyRequest, ListCompaniesRequest, UpdateCompanyRequest } from '@crm/contracts/crm/contacts/v1/cards';
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth';
import { companyOut } from '../contacts-mappers';
import { searchQuery } from '../contacts-schemas';
import type { GatewayDeps } from '../deps';
import { AUTHENTICATED, idParam, json, problems, uuid, WITH_BODY } from '../schemas';
import { createdHeaders, idempotencyHeaders, idempotencyKey, nextCursor, pageParams, type PageQuery } from './contacts';

interface AddressBody {
  kind: string;
  text: string;
}

const companyContactParams = { type: 'object', additionalProperties: false, required: ['id', 'contactId'], properties: { id: uuid, contactId: uuid } } as const;

const companyLinks = (id: string) => ({
  GetCompany: { operationId: 'getCompany', parameters: { id }, description: 'The company' },
  UpdateCompany: { operationId: 'updateCompany', parameters: { id }, description: 'Change it' },
  ListCompanyContacts: { operationId: 'listContacts', parameters: { company_id: id }, description: 'Its contacts' },
});

/** Companies (name, tax id with its checksum, addresses) and the contacts who work there, with roles. */
export async function companyRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { clients } = deps;

  app.get<{ Querystring: PageQuery & { query?: string } }>(
    '/v1/companies',
    {
      schema: {
        tags: ['companies'],
        operationId: 'listCompanies',
        summary: 'List or search companies by name or tax id, in name order',
        querystring: pageParams({ query: { ...searchQuery, description: 'Part of the name, or of the tax id' } }),
        response: { 200: json('A page of companies', { $ref: 'CompanyPage#' }), ...problems(400, ...AUTHENTICATED) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      const q = req.query;
      const res = await clients.companies.listCompanies(ListCompaniesRequest.fromPartial({ query: q.query ?? '', pageSize: q.page_size ?? 25, cursor: q.cursor ?? '' }), req.caller!.tenant);
      return { items: res.companies.map(companyOut), next_cursor: nextCursor(res.nextCursor) };
    },
  );

  app.post<{ Body: { name: string; tax_id?: string; addresses?: AddressBody[] }; Headers: { 'idempotency-key'?: string } }>(
    '/v1/companies',
    {
      schema: {
        tags: ['companies'],
        operationId: 'createCompany',
        summary: 'Create a company',
        description:
          'A tax id that fails its checksum is a 400; one another company of the tenant has is a 409 naming it (`owner_company_id`, `owner`). With `Idempotency-Key`, a retry replays the first response; the same key with another body is a 422.',
        headers: idempotencyHeaders,
        body: { $ref: 'CreateCompany#' },
        response: {
          201: json('Created (or replayed)', { $ref: 'Company#' }, createdHeaders('company: /v1/companies/{id}')),
          ...problems(...WITH_BODY, ...AUTHENTICATED, 409, 422),
        },
      },
      links: { 201: companyLinks('$response.body#/id') },
    },
    async (req, reply) => {
      requireScope(req.caller!, 'contacts:write');
      const key = idempotencyKey(req.headers['idempotency-key']);
      const b = req.body;
      const res = await clients.companies.createCompany(
        CreateCompanyRequest.fromPartial({ name: b.name, taxId: b.tax_id ?? '', addresses: b.addresses ?? [], idempotencyKey: key }),
        req.caller!.tenant,
      );
      if (res.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).header('location', `/v1/companies/${res.company!.id}`).send(companyOut(res.company!));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/companies/:id',
    {
      schema: {
        tags: ['companies'],
        operationId: 'getCompany',
        summary: 'Get a company with its addresses and contacts',
        params: idParam,
        response: { 200: json('The company', { $ref: 'Company#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
      links: { 200: companyLinks('$response.body#/id') },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:read');
      const res = await clients.companies.getCompany({ id: req.params.id }, req.caller!.tenant);
      return companyOut(res.company!);
    },
  );

  app.patch<{ Params: { id: string }; Body: { name?: string; tax_id?: string; addresses?: AddressBody[]; expected_version?: number } }>(
    '/v1/companies/:id',
    {
      schema: {
        tags: ['companies'],
        operationId: 'updateCompany',
        summary: "Change a company's name, tax id or addresses",
        description: 'With `expected_version`, a company changed since is a 409.',
        params: idParam,
        body: { $ref: 'UpdateCompany#' },
        response: { 200: json('The company after the change', { $ref: 'Company#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:write');
      const b = req.body ?? {};
      const res = await clients.companies.updateCompany(
        UpdateCompanyRequest.fromPartial({
          id: req.params.id,
          name: b.name,
          taxId: b.tax_id,
          addresses: b.addresses ?? [],
          updateAddresses: b.addresses !== undefined,
          expectedVersion: b.expected_version ?? 0,
        }),
        req.caller!.tenant,
      );
      return companyOut(res.company!);
    },
  );

  app.put<{ Params: { id: string; contactId: string }; Body: { role: string } }>(
    '/v1/companies/:id/contacts/:contactId',
    {
      schema: {
        tags: ['companies'],
        operationId: 'setCompanyContact',
        summary: 'Link a contact to the company with a role (replaces the role when already linked)',
        params: companyContactParams,
        body: { $ref: 'CompanyContactRole#' },
        response: { 200: json('The company', { $ref: 'Company#' }), ...problems(...WITH_BODY, ...AUTHENTICATED, 404, 409) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:write');
      const res = await clients.companies.setCompanyContact({ companyId: req.params.id, contactId: req.params.contactId, role: req.body.role }, req.caller!.tenant);
      return companyOut(res.company!);
    },
  );

  app.delete<{ Params: { id: string; contactId: string } }>(
    '/v1/companies/:id/contacts/:contactId',
    {
      schema: {
        tags: ['companies'],
        operationId: 'removeCompanyContact',
        summary: 'Unlink a contact from the company',
        params: companyContactParams,
        response: { 200: json('The company', { $ref: 'Company#' }), ...problems(400, ...AUTHENTICATED, 404) },
      },
    },
    async (req) => {
      requireScope(req.caller!, 'contacts:write');
      const res = await clients.companies.removeCompanyContact({ companyId: req.params.id, contactId: req.params.contactId }, req.caller!.tenant);
      return companyOut(res.company!);
    },
  );
}
