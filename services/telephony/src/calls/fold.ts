import type { Direction, Disposition, NormalizedCallEvent } from './model';

/**
 * A call record as a pure fold of its applied events. The events are deduplicated by provider event id
 * and sorted by (seq, at, kind rank, event id) — a total order that does not depend on how they
 * arrived — so a late earlier event or a repeat re-folds to the same record as in-order delivery.
 */
export type CallStatusName = 'ringing' | 'answered' | 'ended' | 'missed';

export interface FoldedTransfer {
  at: string;
  fromExtension: string;
  toExtension: string;
  toPhone: string;
}

export interface FoldedCall {
  direction: Direction;
  status: CallStatusName;
  caller: string;
  callee: string;
  dialed: string;
  /** Extensions rung, in first-rung order (deduplicated). */
  ringingExtensions: string[];
  /** Inbound: who answered; outbound: who placed it. */
  extension: string;
  startedAt: string;
  answeredAt: string;
  endedAt: string;
  durationSeconds: number;
  talkSeconds: number;
  disposition: Disposition | '';
  missed: boolean;
  transfers: FoldedTransfer[];
  recordingUrl: string;
  recordingContentType: string;
}

const KIND_RANK: Record<NormalizedCallEvent['kind'], number> = { ringing: 0, answered: 1, transferred: 2, ended: 3, missed: 3, recording_ready: 4 };

/** The order events are folded in (exported for the tests). */
export function compareEvents(a: NormalizedCallEvent, b: NormalizedCallEvent): number {
  const sa = a.seq ?? -1;
  const sb = b.seq ?? -1;
  if (sa !== sb) return sa - sb;
  const ta = Date.parse(a.at);
  const tb = Date.parse(b.at);
  if (ta !== tb) return (Number.isNaN(ta) ? 0 : ta) - (Number.isNaN(tb) ? 0 : tb);
  const ra = KIND_RANK[a.kind] ?? 9;
  const rb = KIND_RANK[b.kind] ?? 9;
  if (ra !== rb) return ra - rb;
  return a.providerEventId < b.providerEventId ? -1 : a.providerEventId > b.providerEventId ? 1 : 0;
}

/** The events once each (the first of a repeated provider event id in fold order wins), in fold order. */
export function orderedEvents(events: readonly NormalizedCallEvent[]): NormalizedCallEvent[] {
  const sorted = [...events].sort(compareEvents);
  const seen = new Set<string>();
  return sorted.filter((e) => (seen.has(e.providerEventId) ? false : (seen.add(e.providerEventId), true)));
}

const iso = (at: string): string => {
  const t = Date.parse(at);
  return Number.isNaN(t) ? '' : new Date(t).toISOString();
};
const earlier = (a: string, b: string): string => (!a ? b : !b ? a : Date.parse(a) <= Date.parse(b) ? a : b);
const later = (a: string, b: string): string => (!a ? b : !b ? a : Date.parse(a) >= Date.parse(b) ? a : b);
const secondsBetween = (from: string, to: string): number => (from && to ? Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000)) : 0);

/** Folds a call's events (any order, repeats allowed; at least one). */
export function foldCall(events: readonly NormalizedCallEvent[]): FoldedCall {
  const list = orderedEvents(events);
  if (!list.length) throw new Error('foldCall: no events');
  const first = list[0]!;
  const c: FoldedCall = {
    direction: first.direction,
    status: 'ringing',
    caller: '',
    callee: '',
    dialed: '',
    ringingExtensions: [],
    extension: '',
    startedAt: '',
    answeredAt: '',
    endedAt: '',
    durationSeconds: 0,
    talkSeconds: 0,
    disposition: '',
    missed: false,
    transfers: [],
    recordingUrl: '',
    recordingContentType: '',
  };
  let ended = false;
  let endDisposition: Disposition | '' = '';
  // An end that says it was answered (or talked) is an answered call even before its `answered` event
  // arrives: a late `answered` then only adds its time (never a transient "missed").
  let answeredByEnd = false;
  for (const e of list) {
    const at = iso(e.at);
    c.startedAt = earlier(c.startedAt, at);
    // The first non-empty party wins (later legs of a transfer do not rename the caller).
    if (!c.caller && e.caller) c.caller = e.caller;
    if (!c.callee && e.callee) c.callee = e.callee;
    if (!c.dialed && e.dialed) c.dialed = e.dialed;
    for (const x of e.extensions ?? []) if (!c.ringingExtensions.includes(x)) c.ringingExtensions.push(x);
    switch (e.kind) {
      case 'ringing':
        if (c.direction === 'outbound' && e.extension && !c.extension) c.extension = e.extension;
        break;
      case 'answered':
        if (!c.answeredAt) {
          c.answeredAt = at;
          if (e.extension) c.extension = e.extension;
        }
        break;
      case 'transferred':
        c.transfers.push({ at, fromExtension: e.extension ?? '', toExtension: e.transferTo?.extension ?? '', toPhone: e.transferTo?.phone ?? '' });
        break;
      case 'ended':
      case 'missed':
        ended = true;
        c.endedAt = later(c.endedAt, at);
        if (e.disposition === 'answered' || (e.talkSeconds ?? 0) > 0) answeredByEnd = true;
        else if (e.disposition && !endDisposition) endDisposition = e.disposition;
        if (e.durationSeconds !== undefined) c.durationSeconds = Math.max(c.durationSeconds, e.durationSeconds);
        if (e.talkSeconds !== undefined) c.talkSeconds = Math.max(c.talkSeconds, e.talkSeconds);
        break;
      case 'recording_ready':
        if (e.recording?.url) {
          c.recordingUrl = e.recording.url;
          c.recordingContentType = e.recording.contentType ?? '';
        }
        break;
    }
  }
  // A transfer ends in the last target's hands.
  if (c.direction === 'inbound' && c.transfers.length) {
    const last = c.transfers[c.transfers.length - 1]!;
    if (last.toExtension && c.answeredAt) c.extension = last.toExtension;
  }
  if (ended) {
    if (c.answeredAt || answeredByEnd) {
      c.status = 'ended';
      c.disposition = 'answered';
      if (!c.talkSeconds) c.talkSeconds = secondsBetween(c.answeredAt, c.endedAt);
    } else {
      c.disposition = endDisposition || 'no_answer';
      c.missed = c.direction === 'inbound';
      c.status = c.missed ? 'missed' : 'ended';
    }
    if (!c.durationSeconds) c.durationSeconds = secondsBetween(c.startedAt, c.endedAt);
  } else if (c.answeredAt) {
    c.status = 'answered';
  }
  return c;
}
