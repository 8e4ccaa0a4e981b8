/**
 * What an adapter is (one folder per provider under adapters/): it verifies an HTTP request the
 * provider's way before parsing it, maps it to normalised call events, and says what to answer — at
 * once. webhooks/receive.ts stores the raw request and the events with a processing job in one
 * transaction; calls/ingest.ts applies the events later. Adapters also do the provider's outbound
 * commands through http/provider-client.ts.
 */
import type { ConnectionRow, NormalizedCallEvent } from '../calls/model';
import type { DecideResponse } from '@crm/contracts/crm/telephony/v1/telephony';

/** One HTTP request from a provider, as the gateway received it (proto ReceiveRequest, decoded). */
export interface WebhookInput {
  /** After /webhooks/telephony/{connection_id}: `/events/call`, `/route`, `` … */
  path: string;
  method: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
  query: string;
  /** The public URL the provider called (Twilio signs it). */
  url: string;
  remoteIp: string;
  /** When the gateway received it (replay windows are measured from here). */
  receivedAt: Date;
}

export type Outcome =
  | 'accepted'
  | 'duplicate'
  | 'ignored'
  | 'bad_signature'
  | 'stale_timestamp'
  | 'replayed'
  | 'wrong_provider'
  | 'malformed'
  | 'unknown_connection'
  | 'disabled'
  | 'unknown_number'
  | 'foreign_number';

export interface HttpAnswer {
  status: number;
  contentType: string;
  body: string | Buffer;
}

/** What an adapter made of a request. */
export interface AdapterResult {
  /** Refused (any outcome but accepted/ignored) answers `answer` and stores nothing. */
  outcome: Outcome;
  /** What the provider gets back (2xx for accepted/ignored, 401/400/409 for refusals — never 5xx). */
  answer: HttpAnswer;
  /** The provider's id of this delivery (idempotency with `events[].providerEventId`); empty when none. */
  deliveryId: string;
  events: NormalizedCallEvent[];
}

/** Asked by adapters that answer routing synchronously (Zadarma NOTIFY_START/IVR, Twilio, Kamailio). */
export type Decider = (input: { caller: string; dialed: string; providerCallId: string }) => Promise<DecideResponse>;

export interface AdapterContext {
  connection: ConnectionRow;
  decide: Decider;
  /** Replay window for signed timestamps (seconds). */
  toleranceSeconds: number;
  now: Date;
}

export interface OutboundCall {
  /** The employee's extension to ring first. */
  extension: string;
  /** E.164 to call once they answer. */
  phone: string;
  /** The tenant's number to show as caller id, when known. */
  callerId?: string;
}

export interface Adapter {
  provider: ConnectionRow['provider'];
  /** Verify, parse, normalise, answer. Must not throw for bad input (return a refusal). */
  handle(input: WebhookInput, ctx: AdapterContext): Promise<AdapterResult>;
  /** The same request's events again, without verifying (replay of stored raw payloads). */
  parse(input: WebhookInput, connection: ConnectionRow): NormalizedCallEvent[];
  /** Click-to-call; resolves to the provider's call id. Throws DomainError('FAILED_PRECONDITION','not_supported') if it cannot. */
  originate?(connection: ConnectionRow, call: OutboundCall): Promise<{ providerCallId: string }>;
  /** Moves a live call to another extension or phone. */
  transfer?(connection: ConnectionRow, providerCallId: string, to: { extension?: string; phone?: string }): Promise<void>;
  /** Downloads a recording the provider announced (recording_ready's url). */
  downloadRecording?(connection: ConnectionRow, url: string): Promise<{ contentType: string; data: Buffer }>;
}
