import { ImportsServiceService } from '@crm/contracts/crm/contacts/v1/imports';
import type { MikroORM } from '@crm/db';
import { registration, type ServiceRegistration } from '@crm/grpc';
import type { CountryCode } from 'libphonenumber-js';
import type { ContactsEnv } from '../config';
import { ExportService } from '../imports/export';
import { ImportsService } from '../imports/imports.service';
import { importMessage } from '../imports/store';

export const IMPORTS_SERVICE_NAME = 'crm.contacts.v1.ImportsService';

/** crm.contacts.v1.ImportsService: translation only (the runtime applies tenant, deadlines and error mapping). */
export function importsServer(orm: MikroORM, env: ContactsEnv): ServiceRegistration {
  const imports = new ImportsService(orm, env);
  const exporter = new ExportService(orm, env.CONTACTS_DEFAULT_COUNTRY as CountryCode);
  return registration(IMPORTS_SERVICE_NAME, ImportsServiceService, {
    createImport: async (req, ctx) => ({ import: importMessage(await imports.create(ctx.tenantId, ctx.callerId, req)) }),
    appendImportChunk: async (req, ctx) => ({ receivedBytes: await imports.append(ctx.tenantId, req) }),
    analyseImport: async (req, ctx) => imports.analyse(ctx.tenantId, req),
    startImport: async (req, ctx) => ({ import: importMessage(await imports.start(ctx.tenantId, req)) }),
    getImport: async (req, ctx) => ({ import: importMessage(await imports.get(ctx.tenantId, req.id)) }),
    listImports: async (req, ctx) => {
      const { items, nextCursor } = await imports.list(ctx.tenantId, req);
      return { imports: items.map((r) => importMessage(r)), nextCursor };
    },
    listImportErrors: async (req, ctx) => imports.errors(ctx.tenantId, req),
    cancelImport: async (req, ctx) => ({ import: importMessage(await imports.cancel(ctx.tenantId, req.id)) }),
    exportContacts: async (req, ctx) => exporter.export(ctx.tenantId, req),
  });
}
