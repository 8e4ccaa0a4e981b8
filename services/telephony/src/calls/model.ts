/**
 * The one normalised model every adapter maps its provider's events into (ARCHITECTURE.md "Provider
 * adapters"). calls/ingest.ts applies these to call records: the same call record whatever order or how
 * many times they arrive (see there). Nothing here knows any provider.
 */

export type CallEventKind = 'ringing' | 'answered' | 'transferred' | 'ended' | 'missed' | 'recording_ready';
export type Direction = 'inbound' | 'outbound';
export type Disposition = 'answered' | 'no_answer' | 'busy' | 'failed' | 'canceled';

export interface NormalizedCallEvent {
  kind: CallEventKind;
  /** The provider's id of the whole call (Mango entry_id, Zadarma pbx_call_id, Twilio parent CallSid, SIP Call-ID). */
  providerCallId: string;
  /** Unique per event within the connection: the idempotency key (a repeat is ignored). */
  providerEventId: string;
  /** RFC 3339: when the provider says it happened. */
  at: string;
  /** The provider's order within the call when it has one (Mango `seq`); later wins over earlier. */
  seq?: number;
  direction: Direction;
  /** E.164 where it is a phone; an extension for an internal party. */
  caller?: string;
  callee?: string;
  /** Inbound: the tenant's number that was dialed (E.164), looked up in the numbers registry. */
  dialed?: string;
  /** Extensions being rung (ringing) — the screen pop goes to their users. */
  extensions?: string[];
  /** The extension that answered (answered) or placed the call (outbound ringing). */
  extension?: string;
  /** ended: how it ended; `missed` kind implies no_answer / busy / canceled for inbound. */
  disposition?: Disposition;
  durationSeconds?: number;
  talkSeconds?: number;
  /** transferred: to whom. */
  transferTo?: { extension?: string; phone?: string };
  /** recording_ready: where the adapter can download it (never shown to a browser). */
  recording?: { url: string; contentType?: string };
}

/** A provider connection as adapters see it (connections/store.ts loads it; secrets included). */
export interface ConnectionRow {
  id: string;
  tenantId: string;
  provider: 'generic' | 'mango' | 'zadarma' | 'twilio' | 'kamailio';
  name: string;
  apiBaseUrl: string;
  account: string;
  /** Mango salt, Zadarma secret, Twilio auth token. */
  secret: string;
  /** generic / kamailio: the current signing secret and, for 24 h after a rotation, the previous one. */
  signingSecrets: string[];
  fallbackTarget: string;
  isDefault: boolean;
  disabled: boolean;
}
