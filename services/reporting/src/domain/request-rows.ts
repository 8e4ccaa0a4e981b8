/**
 * Events of `crm.intake.request.v1` → rows of the ClickHouse tables (pure, no I/O). Column names are
 * the keys, so a row goes to `INSERT ... FORMAT JSONEachRow` as it is.
 */
import { RequestCommented, RequestCreated } from '@crm/contracts/crm/intake/events/v1/request_events';
import { Channel, ContactAxis, MeaningAxis, NumberAxis, QualificationAxis, RequestState } from '@crm/contracts/crm/intake/v1/request';
import { decodeData, type CloudEvent } from '@crm/kafka';
import { MAX_DATE, MIN_DATE } from '../clickhouse/sql';

export const REQUEST_CREATED = 'crm.intake.request.created.v1';
export const REQUEST_COMMENTED = 'crm.intake.request.commented.v1';

/** A row of `requests`. Times are `YYYY-MM-DD hh:mm:ss` UTC, days `YYYY-MM-DD`. */
export interface RequestRow {
  event_id: string;
  tenant_id: string;
  request_id: string;
  created_at: string;
  day: string;
  channel: string;
  number_axis: string;
  meaning_axis: string;
  contact_axis: string;
  qualification_axis: string;
  state: string;
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  utm_content: string;
  utm_term: string;
  landing_page: string;
  referrer: string;
  ingested_at: string;
}

/** A row of `request_comments`. */
export interface CommentRow {
  event_id: string;
  tenant_id: string;
  request_id: string;
  comment_id: string;
  author_id: string;
  created_at: string;
  day: string;
  ingested_at: string;
}

export type MappedEvent =
  | { kind: 'request'; row: RequestRow }
  | { kind: 'comment'; row: CommentRow }
  /** An event type this sink does not store (committed and forgotten). */
  | { kind: 'skip'; reason: string };

/** The event decodes but cannot be stored (missing ids, a bad time, a tenant mismatch): dead-letter it. */
export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

/**
 * A ts-proto numeric enum value → lower-case name without the enum's prefix:
 * `Channel.CHANNEL_WEB_FORM` → `web_form`, 0 → `unspecified`. A value this build does not know
 * (a newer producer) is kept visible as `unrecognized_<n>` rather than failing the event.
 */
export function enumName(values: Record<string | number, string | number>, value: number, prefix: string): string {
  const name = values[value];
  return typeof name === 'string' && name.startsWith(prefix) ? name.slice(prefix.length).toLowerCase() : `unrecognized_${value}`;
}

/** `YYYY-MM-DD hh:mm:ss` in UTC: how DateTime('UTC') columns read text. */
export function toDateTimeText(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** An RFC 3339 time → its UTC DateTime text and day; outside 1970..2105 it cannot be stored. */
export function utcTime(value: string, field: string): { at: string; day: string } {
  const ms = RFC3339_RE.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new InvalidEventError(`${field} "${value.slice(0, 40)}" is not an RFC 3339 time`);
  const at = toDateTimeText(new Date(ms));
  const day = at.slice(0, 10);
  if (day < MIN_DATE || day > MAX_DATE) throw new InvalidEventError(`${field} ${value} is outside ${MIN_DATE}..${MAX_DATE}`);
  return { at, day };
}

/** The tenant is the envelope's; a payload naming another tenant is refused, never trusted. */
function checkTenant(event: CloudEvent, payloadTenant: string): void {
  if (payloadTenant && payloadTenant !== event.tenantId) {
    throw new InvalidEventError(`payload tenant ${payloadTenant} differs from ce_tenantid ${event.tenantId}`);
  }
}

/**
 * Maps one decoded CloudEvent. Throws EnvelopeError (payload is not protobuf) or InvalidEventError
 * (it cannot be stored); both are the message's fault and go to the DLQ.
 */
export function mapEvent(event: CloudEvent, ingestedAt: Date): MappedEvent {
  const ingested = toDateTimeText(ingestedAt);
  switch (event.type) {
    case REQUEST_CREATED: {
      const { request } = decodeData(event, RequestCreated);
      if (!request) throw new InvalidEventError('request is missing');
      if (!request.id) throw new InvalidEventError('request.id is missing');
      checkTenant(event, request.tenantId);
      // created_at is the request's own time; the envelope's time is a fallback for older producers.
      const { at, day } = utcTime(request.createdAt || event.time, request.createdAt ? 'request.created_at' : 'ce_time');
      const axes = request.axes;
      const utm = request.attribution;
      return {
        kind: 'request',
        row: {
          event_id: event.id,
          tenant_id: event.tenantId,
          request_id: request.id,
          created_at: at,
          day,
          channel: enumName(Channel, axes?.channel ?? 0, 'CHANNEL_'),
          number_axis: enumName(NumberAxis, axes?.number ?? 0, 'NUMBER_AXIS_'),
          meaning_axis: enumName(MeaningAxis, axes?.meaning ?? 0, 'MEANING_AXIS_'),
          contact_axis: enumName(ContactAxis, axes?.contact ?? 0, 'CONTACT_AXIS_'),
          qualification_axis: enumName(QualificationAxis, axes?.qualification ?? 0, 'QUALIFICATION_AXIS_'),
          state: enumName(RequestState, request.state, 'REQUEST_STATE_'),
          utm_source: utm?.utmSource ?? '',
          utm_medium: utm?.utmMedium ?? '',
          utm_campaign: utm?.utmCampaign ?? '',
          utm_content: utm?.utmContent ?? '',
          utm_term: utm?.utmTerm ?? '',
          landing_page: utm?.landingPage ?? '',
          referrer: utm?.referrer ?? '',
          ingested_at: ingested,
        },
      };
    }
    case REQUEST_COMMENTED: {
      const { comment } = decodeData(event, RequestCommented);
      if (!comment) throw new InvalidEventError('comment is missing');
      if (!comment.id) throw new InvalidEventError('comment.id is missing');
      if (!comment.requestId) throw new InvalidEventError('comment.request_id is missing');
      const { at, day } = utcTime(comment.createdAt || event.time, comment.createdAt ? 'comment.created_at' : 'ce_time');
      return {
        kind: 'comment',
        row: {
          event_id: event.id,
          tenant_id: event.tenantId,
          request_id: comment.requestId,
          comment_id: comment.id,
          author_id: comment.authorId,
          created_at: at,
          day,
          ingested_at: ingested,
        },
      };
    }
    default:
      return { kind: 'skip', reason: `event type ${event.type} is not stored by reporting` };
  }
}
