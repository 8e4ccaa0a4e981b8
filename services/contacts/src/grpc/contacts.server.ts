import { ContactsServiceService } from '@crm/contracts/crm/contacts/v1/contacts';
import type { MikroORM } from '@crm/db';
import { registration, type ServiceRegistration } from '@crm/grpc';
import type { ContactsEnv } from '../config';
import { ContactsService } from '../contacts.service';
import { MergeService } from '../merge.service';
import { listTimeline } from '../timeline.service';

export const CONTACTS_SERVICE_NAME = 'crm.contacts.v1.ContactsService';

/**
 * crm.contacts.v1.ContactsService: translation only. The shared runtime (@crm/grpc) requires the
 * tenant and caller metadata, applies deadlines and maps domain errors to gRPC status in one place.
 */
export function contactsServer(orm: MikroORM, env: Pick<ContactsEnv, 'CONTACTS_DEFAULT_COUNTRY'>): ServiceRegistration {
  const contacts = new ContactsService(orm, env.CONTACTS_DEFAULT_COUNTRY);
  const merges = new MergeService(orm);
  return registration(CONTACTS_SERVICE_NAME, ContactsServiceService, {
    createContact: async (req, ctx) => contacts.create(ctx, req),
    getContact: async (req, ctx) => ({ contact: await contacts.get(ctx.tenantId, req.id) }),
    updateContact: async (req, ctx) => ({ contact: await contacts.update(ctx, req) }),
    addContactPoint: async (req, ctx) => ({ contact: await contacts.addPoint(ctx, req) }),
    removeContactPoint: async (req, ctx) => ({ contact: await contacts.removePoint(ctx, req) }),
    setPointVerification: async (req, ctx) => ({ contact: await contacts.setVerification(ctx, req) }),
    listContacts: async (req, ctx) => contacts.list(ctx.tenantId, req),
    lookupContact: async (req, ctx) => contacts.lookup(ctx.tenantId, req),
    matchOrCreate: async (req, ctx) => contacts.matchOrCreate(ctx, req),
    listDuplicates: async (req, ctx) => contacts.listDuplicates(ctx.tenantId, req),
    dismissDuplicate: async (req, ctx) => ({ duplicate: await contacts.dismissDuplicate(ctx, req.id) }),
    mergeContacts: async (req, ctx) => merges.merge(ctx, req),
    undoMerge: async (req, ctx) => merges.undo(ctx, req.mergeId),
    listMerges: async (req, ctx) => ({ merges: await merges.list(ctx.tenantId, req.contactId) }),
    getTimeline: async (req, ctx) => listTimeline(orm, ctx.tenantId, { contactId: req.contactId, clientCardId: req.clientCardId, pageSize: req.pageSize, cursor: req.cursor }),
  });
}
