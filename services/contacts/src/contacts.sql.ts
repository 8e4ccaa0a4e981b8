/**
 * The SQL and row shapes shared by ContactsService and MergeService: a contact is read with its points and
 * its request count in one statement (json_agg), mapped to the proto message here.
 */
import type { Contact, ContactPoint } from '@crm/contracts/crm/contacts/v1/contacts';
import type { EntityManager } from '@crm/db';
import { pointTypeToProto, provenanceToProto, verificationToProto, type PointKind } from './domain/points';

export interface PointRow {
  id: string;
  contact_id?: string;
  type: PointKind;
  value: string;
  network: string | null;
  digits?: string | null;
  verification: 'verified' | 'unverified';
  verified_by: string | null;
  provenance_kind: string;
  provenance_ref: string | null;
  created_at: string | Date;
}

export interface ContactRow {
  id: string;
  tenant_id: string;
  name: string | null;
  search_name?: string | null;
  company_id: string | null;
  merged_into_id: string | null;
  provenance_kind: string;
  provenance_ref: string | null;
  idempotency_key?: string | null;
  fingerprint?: string | null;
  version: number;
  created_at: string | Date;
  /** created_at with microseconds (the keyset key). */
  created_key?: string;
  updated_at: string | Date;
  request_count: number;
  points: PointRow[];
}

/** PostgreSQL's text form of a timestamptz (`2026-12-01 11:06:36.794+00`) or a Date → RFC 3339 UTC. */
export function iso(v: string | Date): string {
  if (v instanceof Date) return v.toISOString();
  const s = v.includes('T') ? v : v.replace(' ', 'T');
  return new Date(/[+-]\d\d$/.test(s) ? `${s}:00` : s).toISOString();
}

export const POINT_JSON = `json_build_object('id', p.id, 'contact_id', p.contact_id, 'type', p.type, 'value', p.value, 'network', p.network, 'digits', p.digits,
  'verification', p.verification, 'verified_by', p.verified_by, 'provenance_kind', p.provenance_kind, 'provenance_ref', p.provenance_ref, 'created_at', p.created_at)`;

/** The columns of a contact as ContactRow (alias `c`), with its points and request count. */
export const CONTACT_COLUMNS = `c.id, c.tenant_id, c.name, c.search_name, c.company_id, c.merged_into_id, c.provenance_kind, c.provenance_ref, c.idempotency_key,
  c.fingerprint, c.version, c.created_at, to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key, c.updated_at,
  (SELECT count(*)::int FROM request_links r WHERE r.tenant_id = c.tenant_id AND r.contact_id = c.id) AS request_count,
  COALESCE((SELECT json_agg(${POINT_JSON} ORDER BY p.created_at, p.id) FROM contact_points p WHERE p.contact_id = c.id), '[]'::json) AS points`;

/** Contacts of a tenant by id (merged ones included), in no particular order. */
export async function loadContacts(em: EntityManager, tenantId: string, ids: string[]): Promise<ContactRow[]> {
  if (!ids.length) return [];
  return em.execute<ContactRow[]>(`SELECT ${CONTACT_COLUMNS} FROM contacts c WHERE c.tenant_id = ? AND c.id IN (?)`, [tenantId, ids]);
}

export async function loadContact(em: EntityManager, tenantId: string, id: string): Promise<ContactRow | undefined> {
  return (await loadContacts(em, tenantId, [id]))[0];
}

export function pointMessage(p: PointRow): ContactPoint {
  return {
    id: p.id,
    type: pointTypeToProto(p.type),
    value: p.value,
    network: p.network ?? '',
    verification: verificationToProto(p.verification),
    provenance: provenanceToProto(p.provenance_kind, p.provenance_ref),
    createdAt: iso(p.created_at),
    verifiedBy: p.verified_by ?? '',
  };
}

export function contactMessage(row: ContactRow): Contact {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name ?? '',
    createdAt: iso(row.created_at),
    points: row.points.map(pointMessage),
    companyId: row.company_id ?? '',
    mergedIntoId: row.merged_into_id ?? '',
    provenance: provenanceToProto(row.provenance_kind, row.provenance_ref),
    version: row.version,
    updatedAt: iso(row.updated_at),
    requestCount: row.request_count,
  };
}

/** True for the PostgreSQL errors a retry of the whole transaction cures (deadlock, serialization). */
export function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}
