/**
 * The call lifecycle: a stored webhook's normalised events applied to the call of (connection, provider
 * call id). Three steps, each safe to repeat (graphile retries a failed job; jobs of one call run one at
 * a time in the call's named queue):
 *
 * 1. **Record** (one transaction): the call row is created on the first event of any kind; each event is
 *    kept once in `call_events`; the row is re-folded from all of them (fold.ts), so any order or
 *    repetition gives the record in-order delivery gives. The call is recorded before anything else is
 *    asked: intake or contacts being down never loses it.
 * 2. **Effects** (intake's request, assignment, first response, missed / recovered outcome): each done
 *    once, flagged in `calls.effects`; calls carry idempotency keys (`call:<id>`) where intake has them.
 *    A transient failure (intake down) fails the job and graphile retries; a permanent refusal (a closed
 *    request cannot be assigned) is logged and not asked again.
 * 3. **Publish**: one outbox event per change (ringing, answered, transferred, ended, missed, recovered),
 *    flagged in `calls.published`, each carrying the Call as it is then. Runs even when step 2 failed
 *    (the screen pop does not wait for intake), then the failure is rethrown.
 */
import { Channel } from '@crm/contracts/crm/intake/v1/request';
import { CallAnswered, CallEnded, CallMissed, CallRecovered, CallRinging, CallTransferred } from '@crm/contracts/crm/telephony/events/v1/call_events';
import { uuidv7, type EntityManager } from '@crm/db';
import type { TenantContext } from '@crm/grpc';
import type { TelephonyContext } from '../context';
import { attributeCall } from '../dni/attribute';
import { CALL_ANSWERED, CALL_ENDED, CALL_MISSED, CALL_RECOVERED, CALL_RINGING, CALL_TRANSFERRED } from '../events';
import { enqueueDownloadRecording, type ProcessWebhookPayload } from '../jobs';
import { findActiveNumber } from '../numbers/store';
import { foldCall } from './fold';
import type { ConnectionRow, NormalizedCallEvent } from './model';
import { usersOfExtensions } from '../connections/store';
import { enqueueCallEvent, lockCall, markCall, pgArray, readCall, toProtoCall, type CallRow } from './row';

/** gRPC codes that will not change on a retry: the effect is given up (logged), not retried. */
const PERMANENT = new Set([3, 5, 6, 7, 9, 11, 12]);
const isPermanent = (err: unknown): boolean => typeof (err as { code?: unknown })?.code === 'number' && PERMANENT.has((err as { code: number }).code);

/** What a webhook's processing did (tests and logs). */
export interface IngestResult {
  callIds: string[];
  /** Events of calls to a number of another tenant: not applied. */
  foreignNumber: number;
  /** Calls first seen to a number nobody has: recorded without a request. */
  unknownNumber: number;
}

interface WebhookRow {
  id: string;
  tenant_id: string;
  connection_id: string;
  events: NormalizedCallEvent[];
  processed_at: Date | null;
}

const ms = (d: Date | string | null | undefined): number => (d ? new Date(d).getTime() : 0);

export class CallIngest {
  constructor(private readonly ctx: TelephonyContext) {}

  private service(tenantId: string): TenantContext {
    return { tenantId, callerId: 'telephony', callerKind: 'service' };
  }

  /** The `telephony_process_webhook` job. */
  async processWebhook(payload: ProcessWebhookPayload): Promise<IngestResult> {
    const result: IngestResult = { callIds: [], foreignNumber: 0, unknownNumber: 0 };
    const em = this.ctx.orm.em.fork();
    const [hook] = await em.execute<WebhookRow[]>('SELECT id, tenant_id, connection_id, events, processed_at FROM webhook_events WHERE id = ?', [payload.webhookEventId]);
    if (!hook) {
      this.ctx.logger.warn({ webhookEventId: payload.webhookEventId }, 'calls: webhook event not found; job dropped');
      return result;
    }
    const [conn] = await em.execute<{ id: string; tenant_id: string; provider: ConnectionRow['provider'] }[]>('SELECT id, tenant_id, provider FROM connections WHERE id = ?', [hook.connection_id]);
    if (!conn) return result;
    await em.execute('UPDATE webhook_events SET attempts = attempts + 1 WHERE id = ?', [hook.id]);
    const byCall = new Map<string, NormalizedCallEvent[]>();
    for (const e of Array.isArray(hook.events) ? hook.events : []) {
      if (!e || typeof e.providerCallId !== 'string' || !e.providerCallId || typeof e.providerEventId !== 'string') continue;
      byCall.set(e.providerCallId, [...(byCall.get(e.providerCallId) ?? []), e]);
    }
    // 1. Record.
    for (const [providerCallId, events] of byCall) {
      const r = await this.record(conn, providerCallId, events, hook.id);
      if (r === 'foreign_number') result.foreignNumber++;
      else {
        if (r.unknownNumber) result.unknownNumber++;
        result.callIds.push(r.id);
      }
    }
    // The screen pop first: a ringing call is announced as soon as it is recorded, before its request is
    // made or found (the card shows the number and its source, and loads the client once the request's
    // ringing follows below) — the seller's screen must not wait on intake and contacts.
    for (const id of result.callIds) await this.publish(id);
    // 2. Effects, 3. publish (also when an effect failed), then the failure.
    let failure: unknown;
    const touched = new Set(result.callIds);
    for (const id of result.callIds) {
      try {
        for (const other of await this.effects(id)) touched.add(other);
      } catch (err) {
        failure ??= err;
      }
    }
    for (const id of touched) await this.publish(id);
    if (failure) {
      await em.execute('UPDATE webhook_events SET last_error = ? WHERE id = ?', [String((failure as Error).message ?? failure).slice(0, 500), hook.id]);
      throw failure;
    }
    const note = result.foreignNumber ? 'foreign_number' : '';
    await em.execute("UPDATE webhook_events SET processed_at = coalesce(processed_at, now()), last_error = CASE WHEN ? <> '' THEN ? ELSE '' END WHERE id = ?", [note, note, hook.id]);
    return result;
  }

  /** Step 1 for one call: create/find, keep the new events, re-fold, write. */
  private async record(conn: { id: string; tenant_id: string; provider: string }, providerCallId: string, events: NormalizedCallEvent[], webhookEventId: string): Promise<{ id: string; unknownNumber: boolean } | 'foreign_number'> {
    return this.ctx.orm.em.fork().transactional(async (em) => {
      let [row] = await em.execute<CallRow[]>('SELECT * FROM calls WHERE connection_id = ? AND provider_call_id = ? FOR UPDATE', [conn.id, providerCallId]);
      let unknownNumber = false;
      if (!row) {
        const created = await this.create(em, conn, providerCallId, events);
        if (created === 'foreign_number') {
          this.ctx.logger.warn({ connectionId: conn.id, providerCallId }, 'calls: a call to a number of another tenant; ignored (foreign_number)');
          return 'foreign_number';
        }
        row = created;
        unknownNumber = row.number_issue === 'unknown_number';
      }
      const now = new Date();
      for (const e of events) {
        await em.execute(
          'INSERT INTO call_events (call_id, provider_event_id, tenant_id, kind, seq, at, webhook_event_id, event, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?) ON CONFLICT DO NOTHING',
          [row.id, e.providerEventId, row.tenant_id, e.kind, Number.isInteger(e.seq) ? e.seq : null, validDate(e.at) ?? now, webhookEventId, JSON.stringify(e), now],
        );
      }
      const all = (await em.execute<{ event: NormalizedCallEvent }[]>('SELECT event FROM call_events WHERE call_id = ?', [row.id])).map((r) => r.event);
      const f = foldCall(all);
      const exts = [...new Set([...f.ringingExtensions, f.extension, ...f.transfers.flatMap((t) => [t.fromExtension, t.toExtension])].filter(Boolean))];
      const users = await usersOfExtensions(em, row.connection_id, exts);
      const ringing = row.decision?.userIds?.length ? row.decision.userIds : [...new Set(f.ringingExtensions.map((x) => users.get(x)).filter((u): u is string => !!u))];
      const transfers = f.transfers.map((t) => ({ at: t.at, fromUserId: users.get(t.fromExtension) ?? '', toUserId: users.get(t.toExtension) ?? '', toDepartmentId: '' }));
      const userId = (f.extension && users.get(f.extension)) || row.user_id || '';
      await em.execute(
        `UPDATE calls SET status = ?, caller = ?, callee = ?, dialed = ?, user_id = ?, answered_extension = ?, ringing_user_ids = ?::text[], started_at = ?, answered_at = ?,
           ended_at = ?, duration_seconds = ?, talk_seconds = ?, disposition = ?, missed = ?, transfers = ?::jsonb, recording_url = ?, updated_at = ? WHERE id = ?`,
        [
          f.status,
          f.caller || row.caller,
          f.callee || row.callee,
          f.dialed || row.dialed,
          userId,
          f.extension || row.answered_extension,
          pgArray(ringing),
          f.startedAt || row.started_at,
          f.answeredAt || null,
          f.endedAt || null,
          f.durationSeconds,
          f.talkSeconds,
          f.disposition,
          f.missed,
          JSON.stringify(transfers),
          f.recordingUrl,
          now,
          row.id,
        ],
      );
      if (f.recordingUrl && f.recordingUrl !== row.recording_url) {
        await enqueueDownloadRecording(em, { tenantId: row.tenant_id, callId: row.id, url: f.recordingUrl });
      }
      return { id: row.id, unknownNumber };
    });
  }

  /** The row of a call first seen: the number (inbound: dialed; outbound: the caller id), attribution, the remembered decision. */
  private async create(em: EntityManager, conn: { id: string; tenant_id: string; provider: string }, providerCallId: string, events: NormalizedCallEvent[]): Promise<CallRow | 'foreign_number'> {
    const f = foldCall(events);
    const phone = f.direction === 'inbound' ? f.dialed || f.callee : f.caller;
    const number = phone ? await findActiveNumber(em, phone) : undefined;
    if (number && number.tenantId !== conn.tenant_id) return 'foreign_number';
    const id = uuidv7();
    const startedAt = f.startedAt ? new Date(f.startedAt) : new Date();
    const [decisionRow] = await em.execute<{ decision: Record<string, unknown> }[]>('SELECT decision FROM call_decisions WHERE connection_id = ? AND provider_call_id = ?', [conn.id, providerCallId]);
    const decision = decisionRow?.decision ?? null;
    let attribution = number ? { utmSource: number.utmSource, utmMedium: number.utmMedium, utmCampaign: number.utmCampaign, landingPage: '', visitId: '', collision: false } : undefined;
    if (number && f.direction === 'inbound' && number.poolId) {
      const visit = await attributeCall(em, conn.tenant_id, number.id, startedAt, id);
      if (visit?.visitId) attribution = { utmSource: visit.utmSource, utmMedium: visit.utmMedium, utmCampaign: visit.utmCampaign, landingPage: visit.landingPage, visitId: visit.visitId, collision: false };
      else if (visit?.collision && attribution) attribution.collision = true;
    }
    const now = new Date();
    const [row] = await em.execute<CallRow[]>(
      `INSERT INTO calls (id, tenant_id, connection_id, provider, provider_call_id, direction, status, caller, callee, dialed, number_id, number_kind, number_issue,
         project_id, department_id, started_at, utm_source, utm_medium, utm_campaign, landing_page, dni_visit_id, dni_collision, decision, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'ringing', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)
       ON CONFLICT (connection_id, provider_call_id) DO NOTHING RETURNING *`,
      [
        id,
        conn.tenant_id,
        conn.id,
        conn.provider,
        providerCallId,
        f.direction,
        f.caller,
        f.callee,
        f.dialed,
        number?.id ?? '',
        number?.kind ?? '',
        number ? '' : 'unknown_number',
        number?.projectId ?? '',
        (decision as { departmentId?: string } | null)?.departmentId || number?.departmentId || '',
        startedAt,
        attribution?.utmSource ?? '',
        attribution?.utmMedium ?? '',
        attribution?.utmCampaign ?? '',
        attribution?.landingPage ?? '',
        attribution?.visitId ?? '',
        attribution?.collision ?? false,
        decision ? JSON.stringify(decision) : null,
        now,
        now,
      ],
    );
    if (!row) {
      // Made meanwhile (Originate's row of the same provider call id): that one.
      const [existing] = await em.execute<CallRow[]>('SELECT * FROM calls WHERE connection_id = ? AND provider_call_id = ? FOR UPDATE', [conn.id, providerCallId]);
      return existing!;
    }
    if (!number) this.ctx.logger.info({ callId: id, phone }, 'calls: a call to an unknown number; recorded without a request (unknown_number)');
    return row;
  }

  /** Runs one effect once: skipped when flagged; flagged after it succeeded or was refused for good. */
  private async once(call: CallRow, flag: string, what: () => Promise<void>): Promise<void> {
    if (call.effects.includes(flag)) return;
    try {
      await what();
    } catch (err) {
      if (!isPermanent(err)) throw err;
      this.ctx.logger.warn({ err, callId: call.id, effect: flag }, 'calls: an effect was refused; not retried');
    }
    await markCall(this.ctx.orm.em.fork(), call.id, 'effects', flag);
    call.effects.push(flag);
  }

  /** Step 2 for one call; returns the other calls it changed (recovered misses). */
  private async effects(id: string): Promise<string[]> {
    const em = this.ctx.orm.em.fork();
    const call = await readCall(em, id);
    if (!call) return [];
    const tenant = this.service(call.tenant_id);
    const { intake, workflow } = this.ctx.clients;
    if (call.direction === 'inbound') {
      if (call.number_id && call.caller) {
        await this.once(call, 'request', async () => {
          const d = call.decision as { departmentId?: string; userIds?: string[]; decidedBy?: string } | null;
          const res = await intake.createRequest(
            {
              channel: Channel.CHANNEL_PHONE,
              name: '',
              phone: call.caller,
              email: '',
              message: '',
              attribution: { utmSource: call.utm_source, utmMedium: call.utm_medium, utmCampaign: call.utm_campaign, utmContent: '', utmTerm: '', landingPage: call.landing_page, referrer: '' },
              idempotencyKey: `call:${call.id}`,
              publicFormId: '',
              defaultCountry: '',
              extraFields: [],
              projectId: call.project_id,
              dialedNumberKind: call.number_kind,
              missed: false,
              decided: d?.departmentId
                ? { version: 0, ruleId: '', departmentId: d.departmentId, strategy: 0, assigneeId: d.userIds?.length === 1 ? d.userIds[0]! : '', assignedBy: d.decidedBy ?? '', overflowPath: [], trace: [], unassignedReason: '' }
                : undefined,
            },
            tenant,
          );
          const req = res.request;
          if (!req) return;
          await em.execute("UPDATE calls SET request_id = ?, contact_id = CASE WHEN contact_id = '' THEN ? ELSE contact_id END, department_id = CASE WHEN department_id = '' THEN ? ELSE department_id END, updated_at = now() WHERE id = ?", [
            req.id,
            req.contactId ?? '',
            req.departmentId ?? '',
            call.id,
          ]);
          call.request_id = req.id;
          call.contact_id ||= req.contactId ?? '';
        });
      }
      // Answered (an end that says answered counts when the provider sent no answer event).
      const answeredAt = call.answered_at ?? (call.disposition === 'answered' ? call.ended_at : null);
      if (call.request_id && answeredAt) {
        if (call.user_id) {
          await this.once(call, `assigned:${call.user_id}`, async () => {
            await workflow.assignRequest({ id: call.request_id, expectedVersion: 0, assigneeId: call.user_id, take: false }, tenant);
          });
        }
        await this.once(call, 'first_response', async () => {
          await workflow.recordFirstResponse({ requestId: call.request_id, at: new Date(answeredAt).toISOString(), userId: call.user_id, via: 'call' }, tenant);
        });
      }
      if (call.request_id && call.missed) {
        await this.once(call, 'missed', async () => {
          await workflow.setCallOutcome({ requestId: call.request_id, missed: true, recoveredAt: '' }, tenant);
        });
      }
      return [];
    }
    // Outbound: a callback that connected recovers the phone's open misses within the window.
    if (!call.answered_at || !call.callee) return [];
    if (!call.effects.includes('recovery')) {
      await this.ctx.orm.em.fork().transactional(async (tx) => {
        const windowStart = new Date(ms(call.answered_at) - this.ctx.env.TELEPHONY_CALLBACK_WINDOW_H * 3_600_000);
        const misses = await tx.execute<{ id: string }[]>(
          `SELECT id FROM calls WHERE tenant_id = ? AND direction = 'inbound' AND missed AND recovered_at IS NULL AND caller = ? AND started_at >= ? AND started_at <= ? AND id <> ? ORDER BY started_at FOR UPDATE`,
          [call.tenant_id, call.callee, windowStart, call.answered_at, call.id],
        );
        const ids = misses.map((m) => m.id);
        if (ids.length) {
          await tx.execute('UPDATE calls SET recovered_at = ?, recovered_by_call_id = ?, updated_at = now() WHERE id = ANY(?::uuid[])', [call.answered_at, call.id, pgArray(ids)]);
        }
        await tx.execute("UPDATE calls SET recovered_call_ids = recovered_call_ids || ?::text[], effects = array_append(effects, 'recovery'), updated_at = now() WHERE id = ?", [pgArray(ids), call.id]);
        call.recovered_call_ids = [...call.recovered_call_ids, ...ids];
        call.effects.push('recovery');
      });
    }
    for (const missId of call.recovered_call_ids) {
      const miss = await readCall(em, missId);
      if (!miss?.request_id || !miss.recovered_at) continue;
      const missTenant = this.service(miss.tenant_id);
      await this.once(miss, 'recovered', async () => {
        await workflow.setCallOutcome({ requestId: miss.request_id, missed: true, recoveredAt: new Date(miss.recovered_at!).toISOString() }, missTenant);
      });
      await this.once(miss, 'callback_first_response', async () => {
        await workflow.recordFirstResponse({ requestId: miss.request_id, at: new Date(call.answered_at!).toISOString(), userId: call.user_id, via: 'call' }, missTenant);
      });
    }
    // An outbound call placed on a request (click-to-call from its card) is its first response.
    if (call.request_id) {
      await this.once(call, 'first_response', async () => {
        await workflow.recordFirstResponse({ requestId: call.request_id, at: new Date(call.answered_at!).toISOString(), userId: call.user_id, via: 'call' }, tenant);
      });
    }
    return call.recovered_call_ids;
  }

  /** Step 3 for one call: the outbox events not yet published for what the call is now. */
  async publish(id: string): Promise<void> {
    await this.ctx.orm.em.fork().transactional(async (em) => {
      const call = await lockCall(em, id);
      if (!call) return;
      const done = new Set(call.published);
      const add: string[] = [];
      const msg = toProtoCall(call);
      const live = call.status === 'ringing';
      if (!done.has('ringing') && live) {
        enqueueCallEvent(em, call, CALL_RINGING, CallRinging, { call: msg, ringingUserIds: call.ringing_user_ids, contactId: call.contact_id });
        add.push('ringing');
      }
      if ((done.has('ringing') || add.includes('ringing')) && call.request_id && !done.has('ringing:request')) {
        // It popped before its request was made: still ringing, the same pop again with the request and
        // contact (the card then shows the client); a pop that already had them needs no second one.
        if (live && !add.includes('ringing')) enqueueCallEvent(em, call, CALL_RINGING, CallRinging, { call: msg, ringingUserIds: call.ringing_user_ids, contactId: call.contact_id });
        add.push('ringing:request');
      }
      if (!done.has('answered') && call.answered_at) {
        enqueueCallEvent(em, call, CALL_ANSWERED, CallAnswered, { call: msg });
        add.push('answered');
      }
      call.transfers.forEach((t, i) => {
        if (done.has(`transferred:${i}`)) return;
        enqueueCallEvent(em, call, CALL_TRANSFERRED, CallTransferred, { call: msg, transfer: t });
        add.push(`transferred:${i}`);
      });
      if (!done.has('ended') && call.status === 'ended') {
        enqueueCallEvent(em, call, CALL_ENDED, CallEnded, { call: msg });
        add.push('ended');
      }
      if (!done.has('missed') && call.status === 'missed') {
        enqueueCallEvent(em, call, CALL_MISSED, CallMissed, { call: msg });
        add.push('missed');
      }
      if (!done.has('recovered') && call.recovered_at) {
        const from = call.ended_at ?? call.started_at;
        enqueueCallEvent(em, call, CALL_RECOVERED, CallRecovered, { call: msg, callbackSeconds: Math.max(0, Math.round((ms(call.recovered_at) - ms(from)) / 1000)) });
        add.push('recovered');
      }
      if (add.length) await em.execute('UPDATE calls SET published = published || ?::text[] WHERE id = ?', [pgArray(add), id]);
    });
  }
}

function validDate(at: string): Date | undefined {
  const t = Date.parse(at);
  return Number.isNaN(t) ? undefined : new Date(t);
}
