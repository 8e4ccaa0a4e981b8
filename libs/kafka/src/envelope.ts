import type { IHeaders, Message } from 'kafkajs';

/**
 * CloudEvents 1.0, Kafka protocol binding, binary content mode: the attributes travel as `ce_*`
 * headers, the value is the protobuf payload. See ARCHITECTURE.md "Events".
 */
export interface CloudEvent {
  id: string;
  source: string;
  type: string;
  subject: string;
  tenantId: string;
  /** RFC 3339 UTC. */
  time: string;
  contentType: string;
  /** W3C traceparent, when the event was produced inside a trace. */
  traceparent?: string;
  tracestate?: string;
  data: Buffer;
}

export class EnvelopeError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid CloudEvents envelope: ${problems.join('; ')}`);
    this.name = 'EnvelopeError';
  }
}

export const CONTENT_TYPE_PROTOBUF = 'application/protobuf';
const TYPE_RE = /^crm\.[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\.v[1-9][0-9]*$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const TRACEPARENT_RE = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Kafka message key: `<tenantId>:<aggregateId>`, so an aggregate's events keep their order. */
export function eventKey(tenantId: string, subject: string): string {
  return `${tenantId}:${subject}`;
}

export function validateType(type: string): void {
  if (!TYPE_RE.test(type)) throw new EnvelopeError([`ce_type "${type}" is not like crm.<owner>.<entity>.<event>.v<N>`]);
}

/** Encodes an event as a Kafka message (key, headers, value). */
export function encodeEvent(event: CloudEvent): Message {
  const problems = check(event);
  if (problems.length) throw new EnvelopeError(problems);
  const headers: IHeaders = {
    ce_specversion: '1.0',
    ce_id: event.id,
    ce_source: event.source,
    ce_type: event.type,
    ce_time: event.time,
    ce_subject: event.subject,
    ce_tenantid: event.tenantId,
    'content-type': event.contentType,
  };
  if (event.traceparent) headers.traceparent = event.traceparent;
  if (event.tracestate) headers.tracestate = event.tracestate;
  return { key: eventKey(event.tenantId, event.subject), value: event.data, headers };
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.length ? String(v[v.length - 1]) : undefined;
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

function check(e: Partial<CloudEvent>): string[] {
  const problems: string[] = [];
  if (!e.id) problems.push('ce_id is missing');
  else if (!UUID_RE.test(e.id)) problems.push(`ce_id "${e.id}" is not a UUID`);
  if (!e.source) problems.push('ce_source is missing');
  if (!e.type) problems.push('ce_type is missing');
  else if (!TYPE_RE.test(e.type)) problems.push(`ce_type "${e.type}" is not like crm.<owner>.<entity>.<event>.v<N>`);
  if (!e.time) problems.push('ce_time is missing');
  else if (!RFC3339_RE.test(e.time) || Number.isNaN(Date.parse(e.time))) problems.push(`ce_time "${e.time}" is not RFC 3339`);
  if (!e.subject) problems.push('ce_subject is missing');
  if (!e.tenantId) problems.push('ce_tenantid is missing');
  if (!e.contentType) problems.push('content-type is missing');
  if (e.traceparent !== undefined && !TRACEPARENT_RE.test(e.traceparent)) problems.push(`traceparent "${e.traceparent}" is malformed`);
  return problems;
}

/**
 * Decodes a Kafka message into a CloudEvent. A missing or malformed `ce_*` header is an EnvelopeError
 * naming every problem; it never throws anything else.
 */
export function decodeEvent(message: { headers?: IHeaders; value: Buffer | null }): CloudEvent {
  const problems: string[] = [];
  const spec = header(message.headers, 'ce_specversion');
  if (spec === undefined) problems.push('ce_specversion is missing');
  else if (spec !== '1.0') problems.push(`ce_specversion "${spec}" is not 1.0`);
  const event: Partial<CloudEvent> = {
    id: header(message.headers, 'ce_id'),
    source: header(message.headers, 'ce_source'),
    type: header(message.headers, 'ce_type'),
    time: header(message.headers, 'ce_time'),
    subject: header(message.headers, 'ce_subject'),
    tenantId: header(message.headers, 'ce_tenantid'),
    contentType: header(message.headers, 'content-type'),
    traceparent: header(message.headers, 'traceparent'),
    tracestate: header(message.headers, 'tracestate'),
  };
  problems.push(...check(event));
  if (message.value === null) problems.push('value is empty (tombstone)');
  if (problems.length) throw new EnvelopeError(problems);
  return { ...(event as CloudEvent), data: message.value as Buffer };
}

/** What ts-proto generates for each message: enough to encode and decode a payload. */
export interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromPartial?(object: unknown): T;
}

/** Decodes the payload; a payload that is not valid protobuf is an EnvelopeError. */
export function decodeData<T>(event: CloudEvent, codec: Codec<T>): T {
  if (event.contentType !== CONTENT_TYPE_PROTOBUF) {
    throw new EnvelopeError([`content-type "${event.contentType}" is not ${CONTENT_TYPE_PROTOBUF}`]);
  }
  try {
    return codec.decode(event.data);
  } catch (err) {
    throw new EnvelopeError([`payload of ${event.type} is not valid protobuf: ${(err as Error).message}`]);
  }
}
