/**
 * Between the calls' REST JSON (routes/calls.ts) and telephony's CallService messages: snake_case, enums
 * as words (`CALL_DIRECTION_INBOUND` → `inbound`, `NUMBER_KIND_ADVERTISING` → `advertising`), '' → null
 * for absent references and times. The realtime feed (realtime.ts) pushes calls in the same shape.
 */
import { CallDirection, CallStatus, NumberKind, Provider, type Call, type CallEvent, type CallTransfer, type MissedCallStatsResponse } from '@crm/contracts/crm/telephony/v1/telephony';
import { words } from './enum-words';

export const CALL_DIRECTIONS = words([
  [CallDirection.CALL_DIRECTION_INBOUND, 'inbound'],
  [CallDirection.CALL_DIRECTION_OUTBOUND, 'outbound'],
]);
export const CALL_STATUSES = words([
  [CallStatus.CALL_STATUS_RINGING, 'ringing'],
  [CallStatus.CALL_STATUS_ANSWERED, 'answered'],
  [CallStatus.CALL_STATUS_ENDED, 'ended'],
  [CallStatus.CALL_STATUS_MISSED, 'missed'],
]);
export const CALL_NUMBER_KINDS = words([
  [NumberKind.NUMBER_KIND_ADVERTISING, 'advertising'],
  [NumberKind.NUMBER_KIND_SUPPORT, 'support'],
  [NumberKind.NUMBER_KIND_SALES, 'sales'],
]);
export const CALL_PROVIDERS = words([
  [Provider.PROVIDER_GENERIC, 'generic'],
  [Provider.PROVIDER_MANGO, 'mango'],
  [Provider.PROVIDER_ZADARMA, 'zadarma'],
  [Provider.PROVIDER_TWILIO, 'twilio'],
  [Provider.PROVIDER_KAMAILIO, 'kamailio'],
]);

const orNull = (s: string | undefined) => (s ? s : null);

export function transferOut(t: CallTransfer) {
  return { at: t.at, from_user_id: orNull(t.fromUserId), to_user_id: orNull(t.toUserId), to_department_id: orNull(t.toDepartmentId) };
}

export function callOut(c: Call) {
  return {
    id: c.id,
    connection_id: orNull(c.connectionId),
    provider: CALL_PROVIDERS.out(c.provider),
    direction: CALL_DIRECTIONS.out(c.direction),
    status: CALL_STATUSES.out(c.status),
    caller: c.caller,
    callee: c.callee,
    number_id: orNull(c.numberId),
    number_kind: c.numberKind ? CALL_NUMBER_KINDS.out(c.numberKind) : null,
    request_id: orNull(c.requestId),
    contact_id: orNull(c.contactId),
    user_id: orNull(c.userId),
    ringing_user_ids: c.ringingUserIds,
    started_at: orNull(c.startedAt),
    answered_at: orNull(c.answeredAt),
    ended_at: orNull(c.endedAt),
    duration_seconds: c.durationSeconds,
    talk_seconds: c.talkSeconds,
    disposition: orNull(c.disposition),
    missed: c.missed,
    recovered_at: orNull(c.recoveredAt),
    recovered_by_call_id: orNull(c.recoveredByCallId),
    recovered_call_ids: c.recoveredCallIds,
    transfers: c.transfers.map(transferOut),
    has_recording: c.hasRecording,
    attribution: { utm_source: c.utmSource, utm_medium: c.utmMedium, utm_campaign: c.utmCampaign, landing_page: c.landingPage },
    dni_collision: c.dniCollision,
    created_at: c.createdAt,
    updated_at: c.updatedAt || c.createdAt,
  };
}

export type CallJson = ReturnType<typeof callOut>;

/** A call event's normalised detail (JSON text) as an object; a detail that is not a JSON object is `{}`. */
function detailOf(s: string): Record<string, unknown> {
  if (!s) return {};
  try {
    const v: unknown = JSON.parse(s);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function callEventOut(e: CallEvent) {
  return { id: e.id, kind: e.kind, at: e.at, seq: Number(e.seq), detail: detailOf(e.detailJson) };
}

export function missedStatsOut(s: MissedCallStatsResponse) {
  return {
    time_zone: s.timeZone,
    total_missed: Number(s.totalMissed),
    total_recovered: Number(s.totalRecovered),
    items: s.rows.map((r) => ({
      number_id: orNull(r.numberId),
      phone: r.phone,
      kind: r.kind ? CALL_NUMBER_KINDS.out(r.kind) : null,
      hour: r.hour,
      missed: Number(r.missed),
      recovered: Number(r.recovered),
      median_callback_seconds: r.medianCallbackSeconds,
    })),
  };
}

/** The parts of `Range: bytes=…` the recording route serves: one range (`a-b`, `a-`, `-n`), or none. */
export type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * One byte range of a resource of `size` bytes (RFC 9110 §14.1.2): `undefined` when there is no header or
 * it is not one bytes range we serve (the whole resource is sent then, as the RFC allows), `unsatisfiable`
 * when the range starts past the end (a 416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}
