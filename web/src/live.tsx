/**
 * One Server-Sent Events connection per logged-in tab (`GET /v1/requests/stream`, the session cookie):
 * the `request.created`, `request.updated` (any change: the request after it) and `request.commented`
 * events the viewer may see (the server filters by visibility), and `notification`s addressed to the
 * viewer (assignment, SLA breach, task reminder), the calls ringing to the viewer (`call.ringing`, the
 * screen pop) and their changes (`call.updated`), handed to the screens that listen.
 * EventSource reconnects by itself after a network error; when the server refuses the stream (e.g. the
 * session ended) it gives up, so we retry after a pause. After any reconnect, listeners get `resync`:
 * events sent while we were away are not replayed, so the journal asks the API for what it missed.
 */
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import type { Comment, CrmRequest } from './api';
import type { Call } from './features/telephony/api';

/** What happened to a call (`call.updated`). */
export type CallChange = 'answered' | 'transferred' | 'ended' | 'missed' | 'recovered' | 'recording_ready';

export type LiveEvent =
  | { type: 'request.created'; request: CrmRequest }
  | { type: 'request.updated'; request: CrmRequest }
  | { type: 'request.commented'; comment: Comment }
  | { type: 'notification'; notification: LiveNotification }
  /** The screen pop: a call rings to the viewer (only the users it rings to get it). */
  | { type: 'call.ringing'; call: Call; contact_id: string | null }
  /** A call that rang to the viewer (or that they answered or placed) changed. */
  | { type: 'call.updated'; change: CallChange; call: Call }
  | { type: 'resync' };

/** A notification addressed to the viewer (`kind`: `assignment`, `sla_breach`, `task_reminder`, …). */
export interface LiveNotification {
  kind: string;
  request_id?: string;
  task_id?: string;
  title: string;
  at: string;
}

export type LiveStatus = 'connecting' | 'open' | 'closed';

const RETRY_MS = 5_000;

export class LiveFeed {
  private source?: EventSource;
  private retry?: ReturnType<typeof setTimeout>;
  private everOpened = false;
  private stopped = false;
  private readonly listeners = new Set<(e: LiveEvent) => void>();
  private readonly statusListeners = new Set<(s: LiveStatus) => void>();
  status: LiveStatus = 'connecting';

  constructor(private readonly url = '/v1/requests/stream') {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.source?.close();
    this.source = undefined;
  }

  on(listener: (e: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  onStatus(listener: (s: LiveStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  private setStatus(s: LiveStatus): void {
    if (s === this.status) return;
    this.status = s;
    for (const l of this.statusListeners) l(s);
  }

  private emit(e: LiveEvent): void {
    for (const l of this.listeners) l(e);
  }

  private connect(): void {
    if (this.stopped) return;
    const source = new EventSource(this.url);
    this.source = source;
    this.setStatus('connecting');
    source.onopen = () => {
      this.setStatus('open');
      if (this.everOpened) this.emit({ type: 'resync' });
      this.everOpened = true;
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (not a network blip): the browser will not retry; we do, after a pause.
        this.setStatus('closed');
        source.close();
        clearTimeout(this.retry);
        this.retry = setTimeout(() => this.connect(), RETRY_MS);
      } else {
        this.setStatus('connecting');
      }
    };
    source.addEventListener('request.created', (m) => this.parse(m, (d) => (d.request ? { type: 'request.created', request: d.request as CrmRequest } : null)));
    source.addEventListener('request.updated', (m) => this.parse(m, (d) => (d.request ? { type: 'request.updated', request: d.request as CrmRequest } : null)));
    source.addEventListener('notification', (m) =>
      this.parse(m, (d) => {
        // `{kind, title, at, …}` itself, or inside `notification`.
        const n = (d.notification ?? d) as Partial<LiveNotification>;
        return typeof n.kind === 'string' ? { type: 'notification', notification: { kind: n.kind, request_id: n.request_id, task_id: n.task_id, title: String(n.title ?? ''), at: String(n.at ?? new Date().toISOString()) } } : null;
      }),
    );
    source.addEventListener('call.ringing', (m) =>
      this.parse(m, (d) => (d.call ? { type: 'call.ringing', call: d.call as Call, contact_id: typeof d.contact_id === 'string' ? d.contact_id : null } : null)),
    );
    source.addEventListener('call.updated', (m) => this.parse(m, (d) => (d.call ? { type: 'call.updated', change: String(d.change) as CallChange, call: d.call as Call } : null)));
    source.addEventListener('request.commented', (m) => this.parse(m, (d) => (d.comment ? { type: 'request.commented', comment: d.comment as Comment } : null)));
  }

  private parse(m: MessageEvent, pick: (data: Record<string, unknown>) => LiveEvent | null): void {
    try {
      const e = pick(JSON.parse(String(m.data)) as Record<string, unknown>);
      if (e) this.emit(e);
    } catch {
      // A malformed event is skipped; the next resync or reload shows the truth.
    }
  }
}

const Ctx = createContext<LiveFeed | null>(null);

export function LiveProvider({ feed, children }: { feed: LiveFeed | null; children: ReactNode }) {
  return <Ctx.Provider value={feed}>{children}</Ctx.Provider>;
}

/** Calls `handler` with every live event while the component is mounted (the latest handler is used). */
export function useLiveEvents(handler: (e: LiveEvent) => void): void {
  const feed = useContext(Ctx);
  const ref = useRef(handler);
  useEffect(() => {
    ref.current = handler;
  });
  useEffect(() => feed?.on((e) => ref.current(e)), [feed]);
}

export function useLiveStatus(): LiveStatus {
  const feed = useContext(Ctx);
  const [status, setStatus] = useState<LiveStatus>(feed?.status ?? 'closed');
  useEffect(() => {
    if (!feed) return;
    setStatus(feed.status);
    return feed.onStatus(setStatus);
  }, [feed]);
  return status;
}
