/**
 * CompaniesService's use cases: companies with a tax id (a Russian INN, checksum checked, one company per
 * tax id and tenant), addresses and contacts with roles. Raw SQL in one transaction per call; every
 * change bumps the version and publishes CompanyChanged (crm.contacts.company.v1) in that transaction.
 */
import { CompanyChanged } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import type {
  Address,
  Company,
  CreateCompanyRequest,
  ListCompaniesRequest,
  RemoveCompanyContactRequest,
  SetCompanyContactRequest,
  UpdateCompanyRequest,
} from '@crm/contracts/crm/contacts/v1/cards';
import { uuidv7, type EntityManager, type MikroORM } from '@crm/db';
import { DomainError, NotFoundError, ValidationError } from '@crm/errors';
import { enqueueEvent } from '@crm/kafka';
import { createHash } from 'node:crypto';
import { checkVersion } from './cards/card-store';
import { uuidArg } from './cards/ids';
import { decodeKeyset, page, pageSize } from './cards/keyset';
import { boundedText, containsPattern, queryArg, searchKey } from './cards/text';
import { parseInn } from './domain/inn';
import { COMPANY_CREATED, COMPANY_TOPIC, COMPANY_UPDATED, EVENT_SOURCE } from './events';

export const IDEMPOTENCY_MISMATCH = 'the idempotency key was already used with a different company';
export const MAX_ADDRESSES = 10;

interface CompanyRow {
  id: string;
  tenant_id: string;
  name: string;
  search_name: string;
  tax_id: string | null;
  addresses: Address[];
  idempotency_key: string | null;
  fingerprint: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, tenant_id, name, search_name, tax_id, addresses, idempotency_key, fingerprint, version, created_at, updated_at';

function addressesArg(raw: Address[]): Address[] {
  if (raw.length > MAX_ADDRESSES) throw new ValidationError(`at most ${MAX_ADDRESSES} addresses`, [{ field: 'addresses', message: `at most ${MAX_ADDRESSES}` }]);
  return raw.map((a, i) => ({ kind: boundedText(`addresses[${i}].kind`, a.kind, 1, 40), text: boundedText(`addresses[${i}].text`, a.text, 1, 500) }));
}

function idempotencyKeyArg(raw: string): string | null {
  if (!raw) return null;
  if (raw.length > 200 || !/^[\x21-\x7e]+$/.test(raw)) {
    throw new ValidationError('idempotency_key must be 1..200 printable ASCII characters', [{ field: 'idempotency_key', message: 'must be 1..200 printable ASCII characters' }]);
  }
  return raw;
}

const isUniqueViolation = (err: unknown): boolean => typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';

async function lock(em: EntityManager, key: string): Promise<void> {
  await em.execute('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [key]);
}

function taxIdOwned(taxId: string, ownerId: string): DomainError {
  return new DomainError('ALREADY_EXISTS', `tax id ${taxId} already belongs to company ${ownerId}`, {
    details: { reason: 'tax_id_owned', companyId: ownerId, taxId, public: { owner_company_id: ownerId } },
    violations: [{ field: 'tax_id', message: `belongs to company ${ownerId}` }],
  });
}

export interface CreateCompanyResult {
  company: Company;
  replayed: boolean;
}

export class CompaniesService {
  constructor(private readonly orm: MikroORM) {}

  async create(tenantId: string, req: CreateCompanyRequest): Promise<CreateCompanyResult> {
    const name = boundedText('name', req.name, 1, 300);
    const taxId = parseInn(req.taxId);
    const addresses = addressesArg(req.addresses);
    const key = idempotencyKeyArg(req.idempotencyKey);
    const fingerprint = createHash('sha256').update(JSON.stringify({ name, taxId, addresses })).digest('hex');
    try {
      return await this.orm.em.fork().transactional(async (em) => {
        if (key) {
          await lock(em, `contacts:company:idempotency:${tenantId}:${key}`);
          const existing = await em.execute<CompanyRow[]>(`SELECT ${COLUMNS} FROM companies WHERE tenant_id = ? AND idempotency_key = ?`, [tenantId, key]);
          if (existing.length) {
            if (existing[0]!.fingerprint !== fingerprint) {
              throw new DomainError('FAILED_PRECONDITION', IDEMPOTENCY_MISMATCH, { details: { reason: 'idempotency_key_reused', idempotencyKey: key } });
            }
            return { company: await this.message(em, existing[0]!), replayed: true };
          }
        }
        if (taxId) {
          const owner = await em.execute<{ id: string }[]>('SELECT id FROM companies WHERE tenant_id = ? AND tax_id = ?', [tenantId, taxId]);
          if (owner.length) throw taxIdOwned(taxId, owner[0]!.id);
        }
        const now = new Date();
        const row: CompanyRow = {
          id: uuidv7(),
          tenant_id: tenantId,
          name,
          search_name: searchKey(name),
          tax_id: taxId,
          addresses,
          idempotency_key: key,
          fingerprint: key ? fingerprint : null,
          version: 1,
          created_at: now,
          updated_at: now,
        };
        await em.execute(`INSERT INTO companies (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?::jsonb, ?, ?, 1, ?, ?)`, [
          row.id,
          tenantId,
          name,
          row.search_name,
          taxId,
          JSON.stringify(addresses),
          key,
          row.fingerprint,
          now,
          now,
        ]);
        const company = await this.message(em, row);
        this.publish(em, COMPANY_CREATED, company);
        return { company, replayed: false };
      });
    } catch (err) {
      // A concurrent create won the race for the tax id (the unique index is the arbiter): name the winner.
      if (isUniqueViolation(err) && taxId) {
        const owner = await this.orm.em.fork().execute<{ id: string }[]>('SELECT id FROM companies WHERE tenant_id = ? AND tax_id = ?', [tenantId, taxId]);
        if (owner.length) throw taxIdOwned(taxId, owner[0]!.id);
      }
      throw err;
    }
  }

  async get(tenantId: string, rawId: string): Promise<Company> {
    const id = uuidArg('id', rawId);
    const em = this.orm.em.fork();
    const rows = await em.execute<CompanyRow[]>(`SELECT ${COLUMNS} FROM companies WHERE tenant_id = ? AND id = ?`, [tenantId, id]);
    if (!rows.length) throw new NotFoundError('company', id);
    return this.message(em, rows[0]!);
  }

  async update(tenantId: string, req: UpdateCompanyRequest): Promise<Company> {
    const id = uuidArg('id', req.id);
    if (req.expectedVersion < 0) throw new ValidationError('expected_version must not be negative', [{ field: 'expected_version', message: 'must be 0 (unchecked) or a version' }]);
    const name = req.name === undefined ? undefined : boundedText('name', req.name, 1, 300);
    const taxId = req.taxId === undefined ? undefined : parseInn(req.taxId);
    const addresses = req.updateAddresses ? addressesArg(req.addresses) : undefined;
    if (!req.updateAddresses && req.addresses.length) {
      throw new ValidationError('addresses are replaced only with update_addresses set', [{ field: 'update_addresses', message: 'must be set to replace the addresses' }]);
    }
    try {
      return await this.orm.em.fork().transactional(async (em) => {
        const row = await this.lockCompany(em, tenantId, id);
        checkVersion('company', row.version, req.expectedVersion);
        const next: CompanyRow = {
          ...row,
          name: name ?? row.name,
          search_name: name === undefined ? row.search_name : searchKey(name),
          tax_id: taxId === undefined ? row.tax_id : taxId,
          addresses: addresses ?? row.addresses,
        };
        const changed = next.name !== row.name || next.tax_id !== row.tax_id || JSON.stringify(next.addresses) !== JSON.stringify(row.addresses);
        if (!changed) return this.message(em, row);
        if (next.tax_id && next.tax_id !== row.tax_id) {
          const owner = await em.execute<{ id: string }[]>('SELECT id FROM companies WHERE tenant_id = ? AND tax_id = ? AND id <> ?', [tenantId, next.tax_id, id]);
          if (owner.length) throw taxIdOwned(next.tax_id, owner[0]!.id);
        }
        next.version = row.version + 1;
        next.updated_at = new Date();
        await em.execute('UPDATE companies SET name = ?, search_name = ?, tax_id = ?, addresses = ?::jsonb, version = ?, updated_at = ? WHERE id = ?', [
          next.name,
          next.search_name,
          next.tax_id,
          JSON.stringify(next.addresses),
          next.version,
          next.updated_at,
          id,
        ]);
        const company = await this.message(em, next);
        this.publish(em, COMPANY_UPDATED, company);
        return company;
      });
    } catch (err) {
      if (isUniqueViolation(err) && taxId) {
        const owner = await this.orm.em.fork().execute<{ id: string }[]>('SELECT id FROM companies WHERE tenant_id = ? AND tax_id = ? AND id <> ?', [tenantId, taxId, id]);
        if (owner.length) throw taxIdOwned(taxId, owner[0]!.id);
      }
      throw err;
    }
  }

  /** Name order (search_name, id), keyset-paginated; the query matches names anywhere, digits also a tax id's start. */
  async list(tenantId: string, req: ListCompaniesRequest): Promise<{ companies: Company[]; nextCursor: string }> {
    const size = pageSize(req.pageSize);
    const query = queryArg(req.query);
    const after = req.cursor ? decodeKeyset('companies', req.cursor) : undefined;
    const where = ['tenant_id = ?'];
    const params: unknown[] = [tenantId];
    if (query) {
      if (/^\d+$/.test(query)) {
        where.push('(tax_id LIKE ? OR search_name LIKE ?)');
        params.push(`${query}%`, containsPattern(query));
      } else {
        where.push('search_name LIKE ?');
        params.push(containsPattern(query));
      }
    }
    if (after) {
      where.push('(search_name, id) > (?, ?::uuid)');
      params.push(after.key, after.id);
    }
    params.push(size + 1);
    const em = this.orm.em.fork();
    const rows = await em.execute<CompanyRow[]>(`SELECT ${COLUMNS} FROM companies WHERE ${where.join(' AND ')} ORDER BY search_name, id LIMIT ?`, params);
    const { items, nextCursor } = page(rows, size, 'companies', (r) => ({ key: r.search_name, id: r.id }));
    const companies: Company[] = [];
    for (const r of items) companies.push(await this.message(em, r));
    return { companies, nextCursor };
  }

  /** Links a contact with a role (replacing the role when linked) and makes the company the contact's company. */
  async setContact(tenantId: string, req: SetCompanyContactRequest): Promise<Company> {
    const companyId = uuidArg('company_id', req.companyId);
    const contactId = uuidArg('contact_id', req.contactId);
    const role = req.role ? boundedText('role', req.role, 0, 100) : '';
    return this.orm.em.fork().transactional(async (em) => {
      const row = await this.lockCompany(em, tenantId, companyId);
      const contact = await this.lockContact(em, tenantId, contactId);
      if (contact.merged_into_id) {
        throw new DomainError('FAILED_PRECONDITION', `contact ${contactId} was merged into ${contact.merged_into_id}; use that contact`, {
          details: { reason: 'contact_merged', mergedIntoId: contact.merged_into_id, public: { merged_into_id: contact.merged_into_id } },
        });
      }
      const link = await em.execute<{ role: string }[]>('SELECT role FROM company_contacts WHERE company_id = ? AND contact_id = ?', [companyId, contactId]);
      if (link.length && link[0]!.role === role && contact.company_id === companyId) return this.message(em, row);
      const now = new Date();
      await em.execute(
        `INSERT INTO company_contacts (tenant_id, company_id, contact_id, role, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (company_id, contact_id) DO UPDATE SET role = EXCLUDED.role`,
        [tenantId, companyId, contactId, role, now],
      );
      if (contact.company_id !== companyId) {
        await em.execute('UPDATE contacts SET company_id = ?, version = version + 1, updated_at = ? WHERE id = ?', [companyId, now, contactId]);
      }
      return this.touch(em, row, now);
    });
  }

  /** Unlinks a contact; the contact's company becomes another company it is linked to, or none. Not linked: no change. */
  async removeContact(tenantId: string, req: RemoveCompanyContactRequest): Promise<Company> {
    const companyId = uuidArg('company_id', req.companyId);
    const contactId = uuidArg('contact_id', req.contactId);
    return this.orm.em.fork().transactional(async (em) => {
      const row = await this.lockCompany(em, tenantId, companyId);
      const contact = await this.lockContact(em, tenantId, contactId);
      const removed = await em.execute<{ contact_id: string }[]>('DELETE FROM company_contacts WHERE company_id = ? AND contact_id = ? RETURNING contact_id', [companyId, contactId]);
      if (!removed.length) return this.message(em, row);
      const now = new Date();
      if (contact.company_id === companyId) {
        const other = await em.execute<{ company_id: string }[]>(
          'SELECT company_id FROM company_contacts WHERE tenant_id = ? AND contact_id = ? ORDER BY created_at DESC LIMIT 1',
          [tenantId, contactId],
        );
        await em.execute('UPDATE contacts SET company_id = ?, version = version + 1, updated_at = ? WHERE id = ?', [other[0]?.company_id ?? null, now, contactId]);
      }
      return this.touch(em, row, now);
    });
  }

  private async lockCompany(em: EntityManager, tenantId: string, id: string): Promise<CompanyRow> {
    const rows = await em.execute<CompanyRow[]>(`SELECT ${COLUMNS} FROM companies WHERE tenant_id = ? AND id = ? FOR UPDATE`, [tenantId, id]);
    if (!rows.length) throw new NotFoundError('company', id);
    return rows[0]!;
  }

  private async lockContact(em: EntityManager, tenantId: string, id: string): Promise<{ company_id: string | null; merged_into_id: string | null }> {
    const rows = await em.execute<{ company_id: string | null; merged_into_id: string | null }[]>(
      'SELECT company_id, merged_into_id FROM contacts WHERE tenant_id = ? AND id = ? FOR UPDATE',
      [tenantId, id],
    );
    if (!rows.length) throw new NotFoundError('contact', id);
    return rows[0]!;
  }

  /** The company's contacts changed: a new version and a CompanyChanged event. */
  private async touch(em: EntityManager, row: CompanyRow, now: Date): Promise<Company> {
    await em.execute('UPDATE companies SET version = version + 1, updated_at = ? WHERE id = ?', [now, row.id]);
    const company = await this.message(em, { ...row, version: row.version + 1, updated_at: now });
    this.publish(em, COMPANY_UPDATED, company);
    return company;
  }

  private async message(em: EntityManager, row: CompanyRow): Promise<Company> {
    const contacts = await em.execute<{ contact_id: string; role: string; name: string | null }[]>(
      `SELECT cc.contact_id, cc.role, c.name FROM company_contacts cc JOIN contacts c ON c.id = cc.contact_id
        WHERE cc.tenant_id = ? AND cc.company_id = ? ORDER BY cc.created_at, cc.contact_id`,
      [row.tenant_id, row.id],
    );
    return {
      id: row.id,
      tenantId: row.tenant_id,
      name: row.name,
      taxId: row.tax_id ?? '',
      addresses: (row.addresses ?? []).map((a) => ({ kind: a.kind, text: a.text })),
      contacts: contacts.map((c) => ({ contactId: c.contact_id, role: c.role, contactName: c.name ?? '' })),
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
      version: row.version,
    };
  }

  private publish(em: EntityManager, type: string, company: Company): void {
    enqueueEvent(em, { topic: COMPANY_TOPIC, type, codec: CompanyChanged, payload: { company }, subject: company.id, tenantId: company.tenantId, source: EVENT_SOURCE });
  }
}
