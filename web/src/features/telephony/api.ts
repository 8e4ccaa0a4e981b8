/**
 * The calls part of the gateway's REST API as the call panel and the calls pages use it: the list, a call's
 * card (the screen pop), click-to-call, transfer, missed-call statistics; the recording is an
 * `<audio src>` of `recordingUrl(id)`. Typed by `gen/api.ts`.
 */
import { client, unwrap, type Complete } from '../../api';
import type { components } from '../../gen/api';

type S = components['schemas'];

export type Call = Complete<S['Call']>;
export type CallCard = Complete<S['CallCard']>;
export type CardContact = NonNullable<CallCard['contact']>;
export type MissedCallStats = Complete<S['MissedCallStats']>;
export type MissedRow = MissedCallStats['items'][number];
export type CallDirection = Call['direction'];
export type NumberKind = NonNullable<Call['number_kind']>;

export interface CallFilters {
  contact_id?: string;
  request_id?: string;
  user_id?: string;
  direction?: 'inbound' | 'outbound';
  missed?: boolean;
  number_id?: string;
  since?: string;
  until?: string;
  live?: boolean;
}

export interface Paged<T> {
  items: T[];
  next_cursor: string | null;
}

const path = (id: string) => ({ path: { id } });

export const recordingUrl = (id: string) => `/v1/calls/${encodeURIComponent(id)}/recording`;

export const callsApi = {
  list: (f: CallFilters, cursor?: string | null, limit = 50, signal?: AbortSignal): Promise<Paged<Call>> =>
    unwrap(client.GET('/v1/calls', { params: { query: { ...f, cursor: cursor || undefined, limit } }, signal }), signal),
  get: (id: string, signal?: AbortSignal): Promise<Call> => unwrap(client.GET('/v1/calls/{id}', { params: path(id), signal }), signal),
  card: (id: string, signal?: AbortSignal): Promise<CallCard> => unwrap(client.GET('/v1/calls/{id}/card', { params: path(id), signal }), signal),
  originate: (body: { phone: string; request_id?: string; contact_id?: string }, idempotencyKey: string): Promise<Call> =>
    unwrap(client.POST('/v1/calls', { body, headers: { 'idempotency-key': idempotencyKey } })),
  transfer: (id: string, to: { to_user_id: string } | { to_department_id: string }): Promise<Call> => unwrap(client.POST('/v1/calls/{id}/transfer', { params: path(id), body: to })),
  missedStats: (q: { since?: string; until?: string; kind?: NumberKind }, signal?: AbortSignal): Promise<MissedCallStats> =>
    unwrap(client.GET('/v1/calls/missed-stats', { params: { query: q }, signal }), signal),
};

/** Where a call's notes wait until they are saved (one key per call: closing the card never loses them). */
export const NOTE_PREFIX = 'crm.call-note.';

export function loadNote(callId: string): string {
  try {
    return localStorage.getItem(NOTE_PREFIX + callId) ?? '';
  } catch {
    return '';
  }
}

export function storeNote(callId: string, text: string): void {
  try {
    if (text) localStorage.setItem(NOTE_PREFIX + callId, text);
    else localStorage.removeItem(NOTE_PREFIX + callId);
  } catch {
    // Storage disabled: the draft lives as long as the page.
  }
}

/** `m:ss` (or `h:mm:ss`) of a duration in seconds. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Whether a call is still going on (ringing or answered). */
export const isLive = (c: Call) => c.status === 'ringing' || c.status === 'answered';
