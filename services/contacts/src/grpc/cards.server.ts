import { ClientCardsServiceService, CompaniesServiceService } from '@crm/contracts/crm/contacts/v1/cards';
import type { MikroORM } from '@crm/db';
import { registration, type CallContext, type ServiceRegistration } from '@crm/grpc';
import type { CountryCode } from 'libphonenumber-js';
import { listBase } from '../bases';
import { ClientCardsService } from '../cards/cards.service';
import type { Actor } from '../cards/personal-card';
import { CompaniesService } from '../companies.service';

export const COMPANIES_SERVICE_NAME = 'crm.contacts.v1.CompaniesService';
export const CLIENT_CARDS_SERVICE_NAME = 'crm.contacts.v1.ClientCardsService';

/** A change made through the API is the caller's (a user id, an API key id or a service name). */
const actorOf = (ctx: CallContext): Actor => ({ kind: 'user', ref: ctx.callerId });

/** crm.contacts.v1.CompaniesService: translation only (tenant, deadlines, error mapping in @crm/grpc). */
export function companiesServer(orm: MikroORM): ServiceRegistration {
  const companies = new CompaniesService(orm);
  return registration(COMPANIES_SERVICE_NAME, CompaniesServiceService, {
    createCompany: async (req, ctx) => companies.create(ctx.tenantId, req),
    getCompany: async (req, ctx) => ({ company: await companies.get(ctx.tenantId, req.id) }),
    updateCompany: async (req, ctx) => ({ company: await companies.update(ctx.tenantId, req) }),
    listCompanies: async (req, ctx) => companies.list(ctx.tenantId, req),
    setCompanyContact: async (req, ctx) => ({ company: await companies.setContact(ctx.tenantId, req) }),
    removeCompanyContact: async (req, ctx) => ({ company: await companies.removeContact(ctx.tenantId, req) }),
  });
}

/** crm.contacts.v1.ClientCardsService, including the bases (ListBase). */
export function clientCardsServer(orm: MikroORM, env: { CONTACTS_DEFAULT_COUNTRY?: CountryCode } = {}): ServiceRegistration {
  const cards = new ClientCardsService(orm);
  return registration(CLIENT_CARDS_SERVICE_NAME, ClientCardsServiceService, {
    createClientCard: async (req, ctx) => ({ card: await cards.create(ctx.tenantId, req, actorOf(ctx)) }),
    getClientCard: async (req, ctx) => ({ card: await cards.get(ctx.tenantId, req.id) }),
    updateClientCard: async (req, ctx) => ({ card: await cards.update(ctx.tenantId, req, actorOf(ctx)) }),
    changeClientCardState: async (req, ctx) => ({ card: await cards.changeState(ctx.tenantId, req, actorOf(ctx)) }),
    listClientCards: async (req, ctx) => cards.list(ctx.tenantId, req),
    getClientCardHistory: async (req, ctx) => ({ changes: await cards.history(ctx.tenantId, req.id) }),
    listBase: async (req, ctx) => listBase(orm, ctx.tenantId, req, env.CONTACTS_DEFAULT_COUNTRY),
  });
}
