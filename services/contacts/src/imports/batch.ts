import { ClientCardCreated, CompanyChanged, ContactCreated } from '@crm/contracts/crm/contacts/events/v1/contact_events';
import { PointType, ProvenanceKind, Verification, type Contact } from '@crm/contracts/crm/contacts/v1/contacts';
import { uuidv7, type EntityManager } from '@crm/db';
import { enqueueEvent, type EnqueueInput } from '@crm/kafka';
import type { CountryCode } from 'libphonenumber-js';
import { cardMessage, type CardRow } from '../cards/personal-card';
import { searchKey } from '../cards/text';
import { searchName } from '../domain/contact';
import { CARD_CREATED, CARD_TOPIC, COMPANY_CREATED, COMPANY_TOPIC, CONTACT_CREATED, CONTACT_TOPIC, EVENT_SOURCE } from '../events';
import { enqueueEvents } from './outbox-bulk';
import { exec } from './sql';
import { convertRow, type ContactRow, type Mapping, type RowPoint } from './mapping';

/** At most this many invalid rows are stored per import (all are counted). */
export const ERRORS_STORED_MAX = 10_000;

/** A batch's rows converted (pure CPU work, done outside the transaction while the previous batch commits). */
export interface PreparedRows {
  processed: number;
  valid: { rowNumber: number; row: ContactRow }[];
  errors: { row: number; reason: string }[];
}

export function prepareRows(rows: { rowNumber: number; cells: string[] }[], mapping: Mapping, country: CountryCode): PreparedRows {
  const valid: PreparedRows['valid'] = [];
  const errors: PreparedRows['errors'] = [];
  for (const r of rows) {
    const c = convertRow(r.cells, mapping, country);
    if (c.ok) valid.push({ rowNumber: r.rowNumber, row: c.row });
    else errors.push({ row: r.rowNumber, reason: c.reason });
  }
  return { processed: rows.length, valid, errors };
}

export interface BatchInput {
  importId: string;
  tenantId: string;
  createdBy: string;
  dryRun: boolean;
  rows: PreparedRows;
  /** Invalid rows stored before this batch (the first ERRORS_STORED_MAX are kept). */
  errorsBefore: number;
  /** Dry run only: the points of the rows accepted so far in this import (in-file dedup across batches). */
  seen?: Set<string>;
}

export interface BatchCounts {
  processed: number;
  created: number;
  duplicates: number;
  invalid: number;
}

const key = (p: { type: string; value: string }) => `${p.type}\u0000${p.value}`;
const TYPE: Record<RowPoint['type'], PointType> = { phone: PointType.POINT_TYPE_PHONE, email: PointType.POINT_TYPE_EMAIL, social: PointType.POINT_TYPE_SOCIAL };

/**
 * One batch of an import inside the caller's transaction: invalid rows reported, rows whose points
 * already belong to a contact (or to an earlier row of the file) counted as duplicates, the rest created
 * with their points, company, personal card and events. Writes nothing but import_errors in a dry run.
 *
 * Dedup is by the unique (tenant_id, type, value) index: existing points are looked up first (the common
 * case, cheap), then the new points are inserted with ON CONFLICT DO NOTHING; a contact that lost a
 * point to a concurrent writer in between is removed again and counted as a duplicate.
 */
export async function processBatch(em: EntityManager, input: BatchInput): Promise<BatchCounts> {
  const { tenantId, importId } = input;
  const { valid, errors } = input.rows;
  const counts: BatchCounts = { processed: input.rows.processed, created: 0, duplicates: 0, invalid: errors.length };

  // Points that already have an owner in the tenant.
  const allPoints = valid.flatMap((v) => v.row.points);
  const existing = new Set<string>();
  if (allPoints.length) {
    const found = await exec<{ type: string; value: string }>(em,
      `SELECT p.type, p.value FROM contact_points p JOIN jsonb_to_recordset(?::jsonb) AS x(type text, value text)
         ON p.tenant_id = ? AND p.type = x.type AND p.value = x.value`,
      [JSON.stringify(allPoints.map((p) => ({ type: p.type, value: p.value }))), tenantId],
    );
    for (const f of found) existing.add(key(f));
  }
  const seen = input.seen ?? new Set<string>();
  const fresh: ContactRow[] = [];
  for (const v of valid) {
    const keys = v.row.points.map(key);
    if (keys.some((k) => existing.has(k) || seen.has(k))) {
      counts.duplicates++;
      continue;
    }
    for (const k of keys) seen.add(k);
    fresh.push(v.row);
  }

  const storable = Math.max(0, ERRORS_STORED_MAX - input.errorsBefore);
  if (errors.length && storable > 0) {
    await exec(
      em,
      `INSERT INTO import_errors (import_id, row_number, reason) SELECT ?, x.row, x.reason FROM jsonb_to_recordset(?::jsonb) AS x(row int, reason text)
       ON CONFLICT DO NOTHING`,
      [importId, JSON.stringify(errors.slice(0, storable))],
    );
  }
  if (input.dryRun || !fresh.length) {
    counts.created = fresh.length;
    return counts;
  }

  const now = new Date();
  const companies = await resolveCompanies(em, tenantId, fresh, now);
  const contacts = fresh.map((row) => ({
    id: uuidv7(),
    row,
    company_id: row.company ? (companies.get(companyKey(row))?.id ?? null) : null,
  }));
  await exec(
      em,
    `INSERT INTO contacts (id, tenant_id, name, search_name, company_id, provenance_kind, provenance_ref, version, created_at, updated_at)
     SELECT x.id, ?, x.name, x.search_name, x.company_id, 'import', ?, 1, ?, ? FROM jsonb_to_recordset(?::jsonb) AS x(id uuid, name text, search_name text, company_id uuid)`,
    [tenantId, importId, now, now, JSON.stringify(contacts.map((c) => ({ id: c.id, name: c.row.name, search_name: searchName(c.row.name), company_id: c.company_id })))],
  );
  // Sorted by (type, value), the order every writer of points uses, so no two wait on each other in opposite orders.
  const points = contacts
    .flatMap((c) => c.row.points.map((p) => ({ id: uuidv7(), contact_id: c.id, ...p })))
    .sort((a, b) => (a.type !== b.type ? (a.type < b.type ? -1 : 1) : a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  const lost = new Set<string>();
  if (points.length) {
    const inserted = await exec<{ id: string }>(em,
      `INSERT INTO contact_points (id, tenant_id, contact_id, type, value, network, digits, verification, provenance_kind, provenance_ref, created_at)
       SELECT x.id, ?, x.contact_id, x.type, x.value, x.network, x.digits, 'unverified', 'import', ?, ? FROM jsonb_to_recordset(?::jsonb)
         AS x(id uuid, contact_id uuid, type text, value text, network text, digits text)
       ON CONFLICT (tenant_id, type, value) DO NOTHING RETURNING id`,
      [tenantId, importId, now, JSON.stringify(points)],
    );
    const ok = new Set(inserted.map((r) => r.id));
    for (const p of points) if (!ok.has(p.id)) lost.add(p.contact_id);
    if (lost.size) {
      const ids = JSON.stringify([...lost]);
      await exec(em, 'DELETE FROM contact_points WHERE contact_id IN (SELECT value::uuid FROM jsonb_array_elements_text(?::jsonb))', [ids]);
      await exec(em, 'DELETE FROM contacts WHERE id IN (SELECT value::uuid FROM jsonb_array_elements_text(?::jsonb))', [ids]);
    }
  }
  const created = contacts.filter((c) => !lost.has(c.id));
  counts.created = created.length;
  counts.duplicates += lost.size;
  if (!created.length) return counts;

  const withCompany = created.filter((c) => c.company_id);
  if (withCompany.length) {
    await exec(
      em,
      `INSERT INTO company_contacts (tenant_id, company_id, contact_id, role, created_at)
       SELECT ?, x.company_id, x.contact_id, '', ? FROM jsonb_to_recordset(?::jsonb) AS x(company_id uuid, contact_id uuid) ON CONFLICT DO NOTHING`,
      [tenantId, now, JSON.stringify(withCompany.map((c) => ({ company_id: c.company_id, contact_id: c.id })))],
    );
  }

  // Each new contact's personal card (not_client / direct) with its `created` history row: the bulk
  // form of openPersonalCard, one statement each instead of two per contact.
  const cards: CardRow[] = created.map((c) => ({
    id: uuidv7(),
    tenant_id: tenantId,
    contact_id: c.id,
    company_id: null,
    state: 'not_client',
    kind: 'direct',
    owner_id: null,
    agent_card_id: null,
    version: 1,
    created_at: now,
    updated_at: now,
  }));
  await exec(
      em,
    `INSERT INTO client_cards (id, tenant_id, contact_id, company_id, state, kind, owner_id, agent_card_id, version, created_at, updated_at)
     SELECT x.id, ?, x.contact_id, NULL, 'not_client', 'direct', NULL, NULL, 1, ?, ? FROM jsonb_to_recordset(?::jsonb) AS x(id uuid, contact_id uuid)`,
    [tenantId, now, now, JSON.stringify(cards.map((c) => ({ id: c.id, contact_id: c.contact_id })))],
  );
  await exec(
      em,
    `INSERT INTO client_card_history (id, tenant_id, card_id, field, from_value, to_value, reason, actor_kind, actor_ref, at)
     SELECT x.id, ?, x.card_id, 'created', NULL, 'not_client', NULL, 'user', ?, ? FROM jsonb_to_recordset(?::jsonb) AS x(id uuid, card_id uuid)`,
    [tenantId, input.createdBy, now, JSON.stringify(cards.map((c) => ({ id: uuidv7(), card_id: c.id })))],
  );

  const at = now.toISOString();
  const provenance = { kind: ProvenanceKind.PROVENANCE_KIND_IMPORT, refId: importId };
  const pointsOf = new Map<string, typeof points>();
  for (const p of points) {
    if (lost.has(p.contact_id)) continue;
    const list = pointsOf.get(p.contact_id);
    if (list) list.push(p);
    else pointsOf.set(p.contact_id, [p]);
  }
  const events: EnqueueInput<unknown>[] = [];
  created.forEach((c, i) => {
    const contact: Contact = {
      id: c.id,
      tenantId,
      name: c.row.name ?? '',
      createdAt: at,
      points: (pointsOf.get(c.id) ?? []).map((p) => ({
        id: p.id,
        type: TYPE[p.type],
        value: p.value,
        network: p.network ?? '',
        verification: Verification.VERIFICATION_UNVERIFIED,
        provenance,
        createdAt: at,
        verifiedBy: '',
      })),
      companyId: c.company_id ?? '',
      mergedIntoId: '',
      provenance,
      version: 1,
      updatedAt: at,
      requestCount: 0,
    };
    events.push({ topic: CONTACT_TOPIC, type: CONTACT_CREATED, codec: ContactCreated, payload: { contact }, subject: c.id, tenantId, source: EVENT_SOURCE } as EnqueueInput<unknown>);
    const card = cards[i]!;
    events.push({
      topic: CARD_TOPIC,
      type: CARD_CREATED,
      codec: ClientCardCreated,
      payload: { card: cardMessage(card, { displayName: contact.name }) },
      subject: card.id,
      tenantId,
      source: EVENT_SOURCE,
    } as EnqueueInput<unknown>);
  });
  await enqueueEvents(em, events);
  return counts;
}

const companyKey = (row: ContactRow) => (row.taxId ? `inn:${row.taxId}` : `name:${searchKey(row.company!)}`);

/**
 * The companies the batch's rows name: by tax id (unique per tenant) when the row has one, else by the
 * exact (search) name; the missing ones are created with their event.
 */
async function resolveCompanies(em: EntityManager, tenantId: string, rows: ContactRow[], now: Date): Promise<Map<string, { id: string }>> {
  const wanted = new Map<string, { name: string; taxId: string | null }>();
  for (const r of rows) if (r.company && !wanted.has(companyKey(r))) wanted.set(companyKey(r), { name: r.company, taxId: r.taxId });
  const out = new Map<string, { id: string }>();
  if (!wanted.size) return out;
  const list = [...wanted.values()];
  const taxIds = list.filter((w) => w.taxId).map((w) => w.taxId);
  const names = list.filter((w) => !w.taxId).map((w) => searchKey(w.name));
  const found = await exec<{ id: string; tax_id: string | null; search_name: string }>(em,
    `SELECT DISTINCT ON (coalesce(tax_id, search_name)) id, tax_id, search_name FROM companies
     WHERE tenant_id = ? AND (tax_id IN (SELECT jsonb_array_elements_text(?::jsonb)) OR (search_name IN (SELECT jsonb_array_elements_text(?::jsonb))))
     ORDER BY coalesce(tax_id, search_name), tax_id NULLS LAST, created_at, id`,
    [tenantId, JSON.stringify(taxIds), JSON.stringify(names)],
  );
  for (const f of found) {
    if (f.tax_id) out.set(`inn:${f.tax_id}`, { id: f.id });
    if (!out.has(`name:${f.search_name}`)) out.set(`name:${f.search_name}`, { id: f.id });
  }
  const missing = [...wanted.entries()].filter(([k]) => !out.has(k)).map(([k, w]) => ({ k, id: uuidv7(), name: w.name, search_name: searchKey(w.name), tax_id: w.taxId }));
  if (!missing.length) return out;
  const inserted = await exec<{ id: string; tax_id: string | null }>(em,
    `INSERT INTO companies (id, tenant_id, name, search_name, tax_id, addresses, version, created_at, updated_at)
     SELECT x.id, ?, x.name, x.search_name, x.tax_id, '[]', 1, ?, ? FROM jsonb_to_recordset(?::jsonb) AS x(id uuid, name text, search_name text, tax_id text)
     ON CONFLICT (tenant_id, tax_id) WHERE tax_id IS NOT NULL DO NOTHING RETURNING id, tax_id`,
    [tenantId, now, now, JSON.stringify(missing)],
  );
  const made = new Set(inserted.map((r) => r.id));
  const at = now.toISOString();
  for (const m of missing) {
    if (made.has(m.id)) {
      out.set(m.k, { id: m.id });
      enqueueEvent(em, {
        topic: COMPANY_TOPIC,
        type: COMPANY_CREATED,
        codec: CompanyChanged,
        payload: { company: { id: m.id, tenantId, name: m.name, taxId: m.tax_id ?? '', addresses: [], contacts: [], createdAt: at, updatedAt: at, version: 1 } },
        subject: m.id,
        tenantId,
        source: EVENT_SOURCE,
      });
    }
  }
  // A tax id another writer created meanwhile: read it now.
  const raced = missing.filter((m) => !made.has(m.id) && m.tax_id);
  if (raced.length) {
    const rows2 = await exec<{ id: string; tax_id: string }>(em,
      'SELECT id, tax_id FROM companies WHERE tenant_id = ? AND tax_id IN (SELECT jsonb_array_elements_text(?::jsonb))',
      [tenantId, JSON.stringify(raced.map((m) => m.tax_id))],
    );
    for (const r of rows2) out.set(`inn:${r.tax_id}`, { id: r.id });
  }
  return out;
}

