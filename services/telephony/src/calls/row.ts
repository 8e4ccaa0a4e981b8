import { CallDirection, CallStatus, NumberKind, Provider, type Call } from '@crm/contracts/crm/telephony/v1/telephony';
import type { EntityManager } from '@crm/db';
import { enqueueEvent, type Codec } from '@crm/kafka';
import { CALL_TOPIC, EVENT_SOURCE } from '../events';

/** A `calls` row as read with `SELECT *` (see telephony_0003_calls). */
export interface CallRow {
  id: string;
  tenant_id: string;
  connection_id: string;
  provider: string;
  provider_call_id: string;
  direction: 'inbound' | 'outbound';
  status: 'ringing' | 'answered' | 'ended' | 'missed';
  caller: string;
  callee: string;
  dialed: string;
  number_id: string;
  number_kind: string;
  number_issue: string;
  project_id: string;
  department_id: string;
  request_id: string;
  contact_id: string;
  user_id: string;
  answered_extension: string;
  ringing_user_ids: string[];
  started_at: Date;
  answered_at: Date | null;
  ended_at: Date | null;
  duration_seconds: number;
  talk_seconds: number;
  disposition: string;
  missed: boolean;
  recovered_at: Date | null;
  recovered_by_call_id: string;
  recovered_call_ids: string[];
  transfers: { at: string; fromUserId: string; toUserId: string; toDepartmentId: string }[];
  recording_url: string;
  has_recording: boolean;
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  landing_page: string;
  dni_visit_id: string;
  dni_collision: boolean;
  decision: { userIds?: string[]; departmentId?: string; extensions?: string[]; decidedBy?: string } | null;
  effects: string[];
  published: string[];
  idempotency_key: string | null;
  created_at: Date;
  updated_at: Date;
}

const iso = (d: Date | string | null | undefined): string => (d ? new Date(d).toISOString() : '');

const PROVIDERS: Record<string, Provider> = {
  generic: Provider.PROVIDER_GENERIC,
  mango: Provider.PROVIDER_MANGO,
  zadarma: Provider.PROVIDER_ZADARMA,
  twilio: Provider.PROVIDER_TWILIO,
  kamailio: Provider.PROVIDER_KAMAILIO,
};
const STATUSES: Record<CallRow['status'], CallStatus> = {
  ringing: CallStatus.CALL_STATUS_RINGING,
  answered: CallStatus.CALL_STATUS_ANSWERED,
  ended: CallStatus.CALL_STATUS_ENDED,
  missed: CallStatus.CALL_STATUS_MISSED,
};
const KINDS: Record<string, NumberKind> = {
  advertising: NumberKind.NUMBER_KIND_ADVERTISING,
  support: NumberKind.NUMBER_KIND_SUPPORT,
  sales: NumberKind.NUMBER_KIND_SALES,
};

export function toProtoCall(r: CallRow): Call {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    connectionId: r.connection_id,
    provider: PROVIDERS[r.provider] ?? Provider.PROVIDER_UNSPECIFIED,
    providerCallId: r.provider_call_id,
    direction: r.direction === 'inbound' ? CallDirection.CALL_DIRECTION_INBOUND : CallDirection.CALL_DIRECTION_OUTBOUND,
    status: STATUSES[r.status] ?? CallStatus.CALL_STATUS_UNSPECIFIED,
    caller: r.caller,
    callee: r.callee,
    numberId: r.number_id,
    numberKind: KINDS[r.number_kind] ?? NumberKind.NUMBER_KIND_UNSPECIFIED,
    requestId: r.request_id,
    contactId: r.contact_id,
    userId: r.user_id,
    ringingUserIds: r.ringing_user_ids ?? [],
    startedAt: iso(r.started_at),
    answeredAt: iso(r.answered_at),
    endedAt: iso(r.ended_at),
    durationSeconds: r.duration_seconds,
    talkSeconds: r.talk_seconds,
    disposition: r.disposition,
    missed: r.missed,
    recoveredAt: iso(r.recovered_at),
    recoveredByCallId: r.recovered_by_call_id,
    recoveredCallIds: r.recovered_call_ids ?? [],
    transfers: (r.transfers ?? []).map((t) => ({ at: t.at, fromUserId: t.fromUserId, toUserId: t.toUserId, toDepartmentId: t.toDepartmentId })),
    hasRecording: r.has_recording,
    utmSource: r.utm_source,
    utmMedium: r.utm_medium,
    utmCampaign: r.utm_campaign,
    landingPage: r.landing_page,
    dniVisitId: r.dni_visit_id,
    dniCollision: r.dni_collision,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

/**
 * A PostgreSQL array literal for a `?::text[]` parameter (knex expands a JS array parameter into a
 * list, so arrays are passed as literals).
 */
export function pgArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}

/** Locks and reads one call (undefined when it does not exist). */
export async function lockCall(em: EntityManager, id: string): Promise<CallRow | undefined> {
  const [r] = await em.execute<CallRow[]>('SELECT * FROM calls WHERE id = ? FOR UPDATE', [id]);
  return r;
}

export async function readCall(em: EntityManager, id: string): Promise<CallRow | undefined> {
  const [r] = await em.execute<CallRow[]>('SELECT * FROM calls WHERE id = ?', [id]);
  return r;
}

/** Adds `flag` to the call's effects (or published) list. */
export async function markCall(em: EntityManager, id: string, column: 'effects' | 'published', flag: string): Promise<void> {
  await em.execute(`UPDATE calls SET ${column} = array_append(${column}, ?), updated_at = now() WHERE id = ? AND NOT (? = ANY(${column}))`, [flag, id, flag]);
}

/** A call event in the outbox of the caller's transaction (subject and key: the call). */
export function enqueueCallEvent<T>(em: EntityManager, row: CallRow, type: string, codec: Codec<T>, payload: T): void {
  enqueueEvent(em, { topic: CALL_TOPIC, type, codec, payload, subject: row.id, tenantId: row.tenant_id, source: EVENT_SOURCE });
}
