import {
  RequestAssigned,
  RequestAxisChanged,
  RequestCommented,
  RequestCreated,
  RequestFirstResponse,
  RequestSlaBreached,
  RequestStateChanged,
} from '@crm/contracts/crm/intake/events/v1/request_events';
import { TaskReminder } from '@crm/contracts/crm/intake/events/v1/task_events';
import {
  CallAnswered,
  CallEnded,
  CallMissed,
  CallRecordingReady,
  CallRecovered,
  CallRinging,
  CallTransferred,
} from '@crm/contracts/crm/telephony/events/v1/call_events';
import type { Call } from '@crm/contracts/crm/telephony/v1/telephony';
import type { Request } from '@crm/contracts/crm/intake/v1/request';
import type { Visibility } from '@crm/grpc';
import { createKafka, decodeData, decodeEvent, type Kafka } from '@crm/kafka';
import type { Logger } from '@crm/logger';
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { callOut } from './call-mappers';
import { commentOut, requestOut } from './mappers';

export const REQUEST_TOPIC = 'crm.intake.request.v1';
export const TASK_TOPIC = 'crm.intake.task.v1';
export const CALL_TOPIC = 'crm.telephony.call.v1';

/** What a `notification` says; the web UI words it by `kind` in the viewer's language. */
export interface Notification {
  kind: 'assigned' | 'sla_breached' | 'task_reminder';
  request_id?: string;
  task_id?: string;
  title: string;
  at: string;
}

export type FeedEvent =
  | { type: 'request.created'; request: ReturnType<typeof requestOut> }
  | { type: 'request.commented'; comment: ReturnType<typeof commentOut> }
  | { type: 'request.updated'; change: RequestChange; request: ReturnType<typeof requestOut> }
  | { type: 'notification'; notification: Notification }
  | { type: 'call.ringing'; call: ReturnType<typeof callOut>; contact_id: string | null }
  | { type: 'call.updated'; change: CallChange; call: ReturnType<typeof callOut> };

/** What happened to a call (`call.updated`). */
export type CallChange = 'answered' | 'transferred' | 'ended' | 'missed' | 'recovered' | 'recording_ready';

export type RequestChange = 'state_changed' | 'assigned' | 'axis_changed' | 'first_response' | 'sla_breached';

/** Who is listening: what they may see (libs/grpc visibilityOf) and who they are (for notifications). */
export interface Viewer {
  visibility: Visibility;
  /** The user's id; absent for API keys (they get no notifications). */
  userId?: string;
}

type Listener = (event: FeedEvent) => void;

/** Where a request is: enough to decide who may see an event about it. */
interface Placement {
  departmentId: string;
  assigneeId: string;
}

/** An event on its way to listeners: its placement (request events), or the users it is addressed to. */
export type Routed = { event: FeedEvent; placement?: Placement; unknownRequest?: boolean; to?: string[] };

/** How many requests' placements a replica remembers for the comment events (which carry only an id). */
const PLACEMENTS_MAX = 20_000;

/** Whether a viewer may see a request placed so (DOMAIN.md "Who sees what"; the same rule intake applies). */
export function mayView(v: Visibility, p: Placement): boolean {
  if (v.all) return true;
  if (p.assigneeId && p.assigneeId === v.userId) return true;
  if (p.departmentId && v.departmentIds.includes(p.departmentId)) return true;
  return v.head && !p.departmentId;
}

/** A small LRU (Map keeps insertion order: a hit is moved to the end, the oldest is dropped first). */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}

const titleOf = (r: Request) => r.name || r.phone || r.email || r.id;

/** A call's change, addressed to the users it rang to and the one who answered (or placed) it: nobody else. */
export function callUpdated(change: CallChange, call: Call, also: string[] = []): Routed {
  const to = [...new Set([...call.ringingUserIds, call.userId, ...also, ...call.transfers.map((t) => t.toUserId)].filter(Boolean))];
  return { event: { type: 'call.updated', change, call: callOut(call) }, to };
}

/**
 * Request and task events of every tenant, read from Kafka by this gateway replica (a consumer group of
 * its own, starting at the end: each replica sees every event, nothing is replayed on restart) and handed
 * to the listeners of the event's tenant (the web UI's Server-Sent Events streams) that may see them: a
 * request event only to viewers who may see the request after it (a comment by the request's placement
 * learnt from the events this replica saw — unknown: only to viewers who see everything), a notification
 * only to the users it is addressed to. Calls (`crm.telephony.call.v1`): `call.ringing` (the screen pop)
 * only to the users it rings to, `call.updated` only to those and to whoever answered, placed or received
 * it by a transfer — nothing to the rest of the tenant.
 */
export class RequestFeed {
  private readonly listeners = new Map<string, Set<{ viewer: Viewer; listener: Listener }>>();
  private readonly placements = new Lru<Placement>(PLACEMENTS_MAX);
  private consumer?: Consumer;
  private readonly kafka: Kafka;

  constructor(private readonly opts: { brokers: string[]; topicSuffix: string; logger: Logger }) {
    this.kafka = createKafka({ clientId: 'gateway-feed', brokers: opts.brokers, logger: opts.logger });
  }

  async start(timeoutMs = 30_000): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: `gateway-feed-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 1000 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [REQUEST_TOPIC, TASK_TOPIC, CALL_TOPIC].map((t) => `${t}${this.opts.topicSuffix}`), fromBeginning: false });
    const joined = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('realtime feed: the consumer did not join its group in time')), timeoutMs);
      consumer.on(consumer.events.GROUP_JOIN, () => {
        clearTimeout(t);
        resolve();
      });
    });
    // No offsets: a replica starts at the end and its group leaves nothing behind in Kafka.
    await consumer.run({ autoCommit: false, eachMessage: async ({ message }) => this.dispatch(message) });
    await joined;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  subscribe(tenantId: string, viewer: Viewer, listener: Listener): () => void {
    let set = this.listeners.get(tenantId);
    if (!set) this.listeners.set(tenantId, (set = new Set()));
    const entry = { viewer, listener };
    set.add(entry);
    return () => {
      set!.delete(entry);
      if (!set!.size) this.listeners.delete(tenantId);
    };
  }

  private dispatch(message: Parameters<typeof decodeEvent>[0]): void {
    let routed: Routed | undefined;
    let tenantId: string;
    try {
      const event = decodeEvent(message);
      tenantId = event.tenantId;
      routed = this.route(event);
    } catch (err) {
      this.opts.logger.warn({ err }, 'realtime feed skipped an undecodable event');
      return;
    }
    if (!routed) return;
    const set = this.listeners.get(tenantId);
    if (!set?.size) return;
    for (const { viewer, listener } of set) {
      if (routed.to) {
        if (!viewer.userId || !routed.to.includes(viewer.userId)) continue;
      } else if (routed.unknownRequest) {
        if (!viewer.visibility.all) continue;
      } else if (routed.placement && !mayView(viewer.visibility, routed.placement)) continue;
      try {
        listener(routed.event);
      } catch (err) {
        this.opts.logger.warn({ err }, 'realtime feed listener failed');
      }
    }
  }

  /** Remembers where a request is (for its comments) and returns its placement. */
  private place(tenantId: string, r: Request): Placement {
    const p = { departmentId: r.departmentId, assigneeId: r.assigneeId };
    this.placements.set(`${tenantId}:${r.id}`, p);
    return p;
  }

  private updated(tenantId: string, change: RequestChange, r: Request): Routed {
    return { event: { type: 'request.updated', change, request: requestOut(r) }, placement: this.place(tenantId, r) };
  }

  /** The event as the streams get it, with whom it is for; undefined for what the streams do not show. */
  private route(event: ReturnType<typeof decodeEvent>): Routed | undefined {
    const t = event.tenantId;
    switch (event.type) {
      case 'crm.intake.request.created.v1': {
        const r = decodeData(event, RequestCreated).request!;
        return { event: { type: 'request.created', request: requestOut(r) }, placement: this.place(t, r) };
      }
      case 'crm.intake.request.commented.v1': {
        const c = decodeData(event, RequestCommented).comment!;
        const placement = this.placements.get(`${t}:${c.requestId}`);
        return { event: { type: 'request.commented', comment: commentOut(c) }, placement, unknownRequest: placement === undefined };
      }
      case 'crm.intake.request.state_changed.v1':
        return this.updated(t, 'state_changed', decodeData(event, RequestStateChanged).request!);
      case 'crm.intake.request.axis_changed.v1':
        return this.updated(t, 'axis_changed', decodeData(event, RequestAxisChanged).request!);
      case 'crm.intake.request.first_response.v1':
        return this.updated(t, 'first_response', decodeData(event, RequestFirstResponse).request!);
      case 'crm.intake.request.assigned.v1': {
        const e = decodeData(event, RequestAssigned);
        const r = e.request!;
        const routed = this.updated(t, 'assigned', r);
        // Taking a request yourself is no news to you.
        if (r.assigneeId && r.assigneeId !== e.actor?.id) this.notify(t, [r.assigneeId], { kind: 'assigned', request_id: r.id, title: titleOf(r), at: e.at || new Date().toISOString() });
        return routed;
      }
      case 'crm.intake.request.sla_breached.v1': {
        const e = decodeData(event, RequestSlaBreached);
        const r = e.request!;
        const routed = this.updated(t, 'sla_breached', r);
        this.notify(t, e.notifyUserIds, { kind: 'sla_breached', request_id: r.id, title: titleOf(r), at: e.breachedAt || new Date().toISOString() });
        return routed;
      }
      case 'crm.intake.task.reminder.v1': {
        const e = decodeData(event, TaskReminder);
        const task = e.task!;
        const n: Notification = { kind: 'task_reminder', task_id: task.id, title: task.title, at: e.at || new Date().toISOString() };
        if (task.requestId) n.request_id = task.requestId;
        return { event: { type: 'notification', notification: n }, to: [task.assigneeId] };
      }
      case 'crm.telephony.call.ringing.v1': {
        const e = decodeData(event, CallRinging);
        const call = e.call!;
        const to = e.ringingUserIds.length ? e.ringingUserIds : call.ringingUserIds;
        return { event: { type: 'call.ringing', call: callOut(call), contact_id: e.contactId || call.contactId || null }, to: [...new Set(to.filter(Boolean))] };
      }
      case 'crm.telephony.call.answered.v1':
        return callUpdated('answered', decodeData(event, CallAnswered).call!);
      case 'crm.telephony.call.transferred.v1': {
        const e = decodeData(event, CallTransferred);
        // The colleague it went to hears of it too.
        return callUpdated('transferred', e.call!, [e.transfer?.toUserId ?? '', e.transfer?.fromUserId ?? '']);
      }
      case 'crm.telephony.call.ended.v1':
        return callUpdated('ended', decodeData(event, CallEnded).call!);
      case 'crm.telephony.call.missed.v1':
        return callUpdated('missed', decodeData(event, CallMissed).call!);
      case 'crm.telephony.call.recovered.v1':
        return callUpdated('recovered', decodeData(event, CallRecovered).call!);
      case 'crm.telephony.call.recording_ready.v1':
        return callUpdated('recording_ready', decodeData(event, CallRecordingReady).call!);
      default:
        return undefined;
    }
  }

  /** A notification besides the event that caused it, to the users it is addressed to. */
  private notify(tenantId: string, to: string[], n: Notification): void {
    const users = [...new Set(to.filter(Boolean))];
    if (!users.length) return;
    const set = this.listeners.get(tenantId);
    if (!set?.size) return;
    const event: FeedEvent = { type: 'notification', notification: n };
    for (const { viewer, listener } of set) {
      if (!viewer.userId || !users.includes(viewer.userId)) continue;
      try {
        listener(event);
      } catch (err) {
        this.opts.logger.warn({ err }, 'realtime feed listener failed');
      }
    }
  }
}
