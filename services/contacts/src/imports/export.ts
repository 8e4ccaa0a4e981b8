import { ExportList, type ExportContactsRequest, type ExportContactsResponse } from '@crm/contracts/crm/contacts/v1/imports';
import { PointType, type Contact } from '@crm/contracts/crm/contacts/v1/contacts';
import type { MikroORM } from '@crm/db';
import { ValidationError } from '@crm/errors';
import type { CountryCode } from 'libphonenumber-js';
import { decodeKeyset, encodeKeyset, tsKeySql, TS_KEY_RE } from '../cards/keyset';
import { searchKey } from '../cards/text';
import { ContactsService } from '../contacts.service';
import { searchKey as contactSearchKey, searchName } from '../domain/contact';
import { likeContains } from '../domain/search';

/** CSV export of the lists (pure formatting at the top, the queries below). */
export const EXPORT_PAGE_DEFAULT = 1000;
export const EXPORT_PAGE_MAX = 5000;
const BOM = '\ufeff';
const QUERY_MAX = 200;

/**
 * One cell, RFC 4180: quoted when it holds a comma, a quote, a line break or leading/trailing spaces
 * (quotes doubled). Formula-injection guard: a cell starting with = + - @ (or a tab / carriage return,
 * which some spreadsheets skip before reading a formula) gets a leading ' so it is shown as text.
 */
export function csvCell(value: string): string {
  let v = value;
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvLine(cells: string[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

type Page = { rows: string[][]; nextCursor: string };

const CONTACT_HEADER = ['id', 'name', 'phone', 'email', 'messengers', 'company', 'tax_id', 'created_at'];
const COMPANY_HEADER = ['id', 'name', 'tax_id', 'contacts', 'created_at'];
const CARD_HEADER = ['id', 'state', 'kind', 'name', 'contact_id', 'company_id', 'owner_id', 'open_deals', 'won_deals', 'lost_deals', 'updated_at'];

function pageSizeArg(raw: number): number {
  if (raw === 0) return EXPORT_PAGE_DEFAULT;
  if (!Number.isInteger(raw) || raw < 1 || raw > EXPORT_PAGE_MAX) {
    throw new ValidationError(`page_size must be 1..${EXPORT_PAGE_MAX} (0 means ${EXPORT_PAGE_DEFAULT})`, [{ field: 'page_size', message: `must be 0..${EXPORT_PAGE_MAX}` }]);
  }
  return raw;
}

function queryArg(raw: string): string | null {
  const q = raw.trim();
  if (q.length > QUERY_MAX) throw new ValidationError('query is too long', [{ field: 'query', message: `must be at most ${QUERY_MAX} characters` }]);
  return q ? q : null;
}

export class ExportService {
  private readonly contacts: ContactsService;

  constructor(
    private readonly orm: MikroORM,
    country: CountryCode,
  ) {
    this.contacts = new ContactsService(orm, country);
  }

  async export(tenantId: string, req: ExportContactsRequest): Promise<ExportContactsResponse> {
    const size = pageSizeArg(req.pageSize);
    const query = queryArg(req.query);
    let header: string[];
    let result: Page;
    switch (req.list) {
      case ExportList.EXPORT_LIST_CONTACTS:
        header = CONTACT_HEADER;
        result = await this.contactList(tenantId, query ?? '', size, req.cursor);
        break;
      case ExportList.EXPORT_LIST_COLD:
        header = CONTACT_HEADER;
        result = await this.coldBase(tenantId, query, size, req.cursor);
        break;
      case ExportList.EXPORT_LIST_COMPANIES:
        header = COMPANY_HEADER;
        result = await this.companies(tenantId, query, size, req.cursor);
        break;
      case ExportList.EXPORT_LIST_CLIENT_CARDS:
      case ExportList.EXPORT_LIST_FREE:
      case ExportList.EXPORT_LIST_DISCONNECTED:
        header = CARD_HEADER;
        result = await this.cards(tenantId, req.list, query, size, req.cursor);
        break;
      default:
        throw new ValidationError('invalid list', [{ field: 'list', message: 'must be contacts, cold, free, disconnected, companies or client_cards' }]);
    }
    let text = req.cursor ? '' : BOM + csvLine(header);
    for (const r of result.rows) text += csvLine(r);
    return { csv: Buffer.from(text, 'utf8'), nextCursor: result.nextCursor, rows: result.rows.length };
  }

  /** The contact list with ListContacts' own search (its cursor is ListContacts' cursor). */
  private async contactList(tenantId: string, query: string, size: number, cursor: string): Promise<Page> {
    const contacts: Contact[] = [];
    let next = cursor;
    do {
      const page = await this.contacts.list(tenantId, { query, companyId: '', pageSize: Math.min(100, size - contacts.length), cursor: next });
      contacts.push(...page.contacts);
      next = page.nextCursor;
    } while (next && contacts.length < size);
    return { rows: await this.contactRows(tenantId, contacts), nextCursor: next };
  }

  private async contactRows(tenantId: string, contacts: Contact[]): Promise<string[][]> {
    const ids = [...new Set(contacts.map((c) => c.companyId).filter(Boolean))];
    const companies = new Map<string, { name: string; tax_id: string | null }>();
    if (ids.length) {
      const rows = await this.orm.em
        .fork()
        .execute<{ id: string; name: string; tax_id: string | null }[]>(
          'SELECT id, name, tax_id FROM companies WHERE tenant_id = ? AND id IN (SELECT value::uuid FROM jsonb_array_elements_text(?::jsonb))',
          [tenantId, JSON.stringify(ids)],
        );
      for (const r of rows) companies.set(r.id, r);
    }
    const join = (c: Contact, t: PointType) =>
      c.points
        .filter((p) => p.type === t)
        .map((p) => p.value)
        .join('; ');
    return contacts.map((c) => {
      const company = companies.get(c.companyId);
      return [c.id, c.name, join(c, PointType.POINT_TYPE_PHONE), join(c, PointType.POINT_TYPE_EMAIL), join(c, PointType.POINT_TYPE_SOCIAL), company?.name ?? '', company?.tax_id ?? '', c.createdAt];
    });
  }

  /** The cold base: contacts with no request and no deal of their own, newest first. */
  private async coldBase(tenantId: string, query: string | null, size: number, cursor: string): Promise<Page> {
    const after = cursor ? decodeKeyset('export:cold', cursor, TS_KEY_RE) : null;
    const name = query ? searchName(query) : null;
    const params: unknown[] = [tenantId];
    let where = '';
    if (name) {
      where += ' AND c.search_key LIKE ? AND c.search_name LIKE ?';
      params.push(likeContains(contactSearchKey(name)), likeContains(name));
    }
    if (after) {
      where += ' AND (c.created_at, c.id) < (?::timestamptz, ?::uuid)';
      params.push(after.key, after.id);
    }
    params.push(size + 1);
    const rows = await this.orm.em.fork().execute<{ id: string; name: string | null; company_id: string | null; k: string; points: { type: string; value: string }[] }[]>(
      `SELECT c.id, c.name, c.company_id, ${tsKeySql('c.created_at')} AS k,
         COALESCE((SELECT json_agg(json_build_object('type', p.type, 'value', p.value) ORDER BY p.created_at, p.id) FROM contact_points p WHERE p.contact_id = c.id), '[]') AS points
       FROM contacts c
       WHERE c.tenant_id = ? AND c.merged_into_id IS NULL
         AND NOT EXISTS (SELECT 1 FROM request_links r WHERE r.tenant_id = c.tenant_id AND r.contact_id = c.id)
         AND NOT EXISTS (SELECT 1 FROM deal_links d WHERE d.tenant_id = c.tenant_id AND d.contact_ids @> ARRAY[c.id])
         ${where}
       ORDER BY c.created_at DESC, c.id DESC LIMIT ?`,
      params,
    );
    const items = rows.slice(0, size);
    const contacts: Contact[] = items.map((r) => ({
      id: r.id,
      tenantId,
      name: r.name ?? '',
      createdAt: r.k.replace(/(\.\d{3})\d{3}Z$/, '$1Z'),
      points: r.points.map((p) => ({
        id: '',
        type: p.type === 'phone' ? PointType.POINT_TYPE_PHONE : p.type === 'email' ? PointType.POINT_TYPE_EMAIL : PointType.POINT_TYPE_SOCIAL,
        value: p.value,
        network: '',
        verification: 0,
        provenance: undefined,
        createdAt: '',
        verifiedBy: '',
      })),
      companyId: r.company_id ?? '',
      mergedIntoId: '',
      provenance: undefined,
      version: 0,
      updatedAt: '',
      requestCount: 0,
    }));
    const last = items[items.length - 1];
    return { rows: await this.contactRows(tenantId, contacts), nextCursor: rows.length > size && last ? encodeKeyset('export:cold', { key: last.k, id: last.id }) : '' };
  }

  /** Companies by name. */
  private async companies(tenantId: string, query: string | null, size: number, cursor: string): Promise<Page> {
    const after = cursor ? decodeKeyset('export:companies', cursor) : null;
    const params: unknown[] = [tenantId];
    let where = '';
    if (query) {
      where += ' AND (c.search_name LIKE ? OR c.tax_id = ?)';
      params.push(likeContains(searchKey(query)), query);
    }
    if (after) {
      where += ' AND (c.search_name, c.id) > (?, ?::uuid)';
      params.push(after.key, after.id);
    }
    params.push(size + 1);
    const rows = await this.orm.em.fork().execute<{ id: string; name: string; search_name: string; tax_id: string | null; contacts: number; created_at: Date }[]>(
      `SELECT c.id, c.name, c.search_name, c.tax_id, c.created_at, (SELECT count(*)::int FROM company_contacts cc WHERE cc.company_id = c.id) AS contacts
       FROM companies c WHERE c.tenant_id = ? ${where} ORDER BY c.search_name, c.id LIMIT ?`,
      params,
    );
    const items = rows.slice(0, size);
    const last = items[items.length - 1];
    return {
      rows: items.map((r) => [r.id, r.name, r.tax_id ?? '', String(r.contacts), new Date(r.created_at).toISOString()]),
      nextCursor: rows.length > size && last ? encodeKeyset('export:companies', { key: last.search_name, id: last.id }) : '',
    };
  }

  /**
   * Client cards, most recently changed first: all of them, the free base (≥ 1 finished deal, none open)
   * or the disconnected clients (`former`).
   */
  private async cards(tenantId: string, list: ExportList, query: string | null, size: number, cursor: string): Promise<Page> {
    const name = `export:${ExportList[list].toLowerCase()}`;
    const after = cursor ? decodeKeyset(name, cursor, TS_KEY_RE) : null;
    const params: unknown[] = [tenantId];
    let where = '';
    if (list === ExportList.EXPORT_LIST_DISCONNECTED) where += ` AND k.state = 'former'`;
    if (list === ExportList.EXPORT_LIST_FREE) {
      where += ` AND EXISTS (SELECT 1 FROM deal_links d WHERE d.tenant_id = k.tenant_id AND d.client_card_id = k.id AND d.status IN ('won','lost'))
                 AND NOT EXISTS (SELECT 1 FROM deal_links d WHERE d.tenant_id = k.tenant_id AND d.client_card_id = k.id AND d.status = 'open')`;
    }
    const q = query ? searchName(query) : null;
    if (q) {
      where += ' AND (c.search_name LIKE ? OR co.search_name LIKE ?)';
      params.push(likeContains(q), likeContains(searchKey(query!)));
    }
    if (after) {
      where += ' AND (k.updated_at, k.id) < (?::timestamptz, ?::uuid)';
      params.push(after.key, after.id);
    }
    params.push(size + 1);
    const rows = await this.orm.em.fork().execute<
      { id: string; state: string; kind: string; name: string | null; contact_id: string | null; company_id: string | null; owner_id: string | null; open: number; won: number; lost: number; k: string }[]
    >(
      `SELECT k.id, k.state, k.kind, coalesce(c.name, co.name) AS name, k.contact_id, k.company_id, k.owner_id, ${tsKeySql('k.updated_at')} AS k,
         (SELECT count(*)::int FROM deal_links d WHERE d.tenant_id = k.tenant_id AND d.client_card_id = k.id AND d.status = 'open') AS open,
         (SELECT count(*)::int FROM deal_links d WHERE d.tenant_id = k.tenant_id AND d.client_card_id = k.id AND d.status = 'won') AS won,
         (SELECT count(*)::int FROM deal_links d WHERE d.tenant_id = k.tenant_id AND d.client_card_id = k.id AND d.status = 'lost') AS lost
       FROM client_cards k LEFT JOIN contacts c ON c.id = k.contact_id LEFT JOIN companies co ON co.id = k.company_id
       WHERE k.tenant_id = ? ${where}
       ORDER BY k.updated_at DESC, k.id DESC LIMIT ?`,
      params,
    );
    const items = rows.slice(0, size);
    const last = items[items.length - 1];
    return {
      rows: items.map((r) => [r.id, r.state, r.kind, r.name ?? '', r.contact_id ?? '', r.company_id ?? '', r.owner_id ?? '', String(r.open), String(r.won), String(r.lost), r.k.replace(/(\.\d{3})\d{3}Z$/, '$1Z')]),
      nextCursor: rows.length > size && last ? encodeKeyset(name, { key: last.k, id: last.id }) : '',
    };
  }
}

