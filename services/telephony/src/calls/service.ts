/**
 * CallService's work: reading calls (who sees which: the request rule over the call's user and
 * department), click-to-call, transfer, missed-call stats and the recording's bytes.
 */
import { CallDirection, NumberKind, type CallEvent, type MissedCallStatsResponse, type FetchRecordingResponse } from '@crm/contracts/crm/telephony/v1/telephony';
import { uuidv7 } from '@crm/db';
import { DomainError, NotFoundError, ValidationError, type FieldViolation } from '@crm/errors';
import { visibilityOf, visibilitySql, type TenantContext } from '@crm/grpc';
import { ADAPTERS } from '../adapters/registry';
import { defaultConnection, loadConnection } from '../connections/store';
import type { TelephonyContext } from '../context';
import { toProtoCall, type CallRow } from './row';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const E164_RE = /^\+[1-9][0-9]{6,14}$/;
const KIND_NAMES: Partial<Record<NumberKind, string>> = {
  [NumberKind.NUMBER_KIND_ADVERTISING]: 'advertising',
  [NumberKind.NUMBER_KIND_SUPPORT]: 'support',
  [NumberKind.NUMBER_KIND_SALES]: 'sales',
};
const KIND_OF: Record<string, NumberKind> = { advertising: NumberKind.NUMBER_KIND_ADVERTISING, support: NumberKind.NUMBER_KIND_SUPPORT, sales: NumberKind.NUMBER_KIND_SALES };

function invalid(what: string, violations: FieldViolation[]): never {
  throw new ValidationError(`${what} is invalid: ${violations.map((v) => `${v.field} ${v.message}`).join('; ')}`, violations);
}

function uuidField(violations: FieldViolation[], field: string, raw: string, required = false): string {
  const v = raw.trim();
  if (v === '') {
    if (required) violations.push({ field, message: 'is required' });
    return '';
  }
  if (!UUID_RE.test(v)) violations.push({ field, message: 'must be a UUID' });
  return v.toLowerCase();
}

function timeField(violations: FieldViolation[], field: string, raw: string): Date | null {
  const v = raw.trim();
  if (v === '') return null;
  const ms = Date.parse(v);
  if (!RFC3339_RE.test(v) || Number.isNaN(ms)) {
    violations.push({ field, message: 'must be an RFC 3339 timestamp' });
    return null;
  }
  return new Date(ms);
}

/** The who-sees-what rule over a call's user and department (text columns, empty when none). */
function visible(ctx: TenantContext) {
  const v = visibilitySql(visibilityOf(ctx), { owner: "nullif(c.user_id, '')::uuid", department: "nullif(c.department_id, '')::uuid" });
  // The users a call rings to see it too (the screen pop's card, their live calls after a reload).
  if (ctx.callerKind !== 'user' || v.sql === 'true') return v;
  return { sql: `(${v.sql} OR ? = ANY(c.ringing_user_ids))`, params: [...v.params, ctx.callerId] };
}

/** Keyset cursor: newest first by (started_at, id). */
function encodeCursor(r: { started_at: Date; id: string }): string {
  return Buffer.from(JSON.stringify([new Date(r.started_at).toISOString(), r.id])).toString('base64url');
}

function decodeCursor(token: string, violations: FieldViolation[]): [string, string] | null {
  if (!token) return null;
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && !Number.isNaN(Date.parse(v[0])) && typeof v[1] === 'string' && UUID_RE.test(v[1])) return [v[0], v[1]];
  } catch {
    // Reported below.
  }
  violations.push({ field: 'page_token', message: 'is not a token this service issued' });
  return null;
}

/** "+7 (916) 123-45-67" → "+79161234567"; undefined when it is not an E.164 number. */
export function e164(raw: string): string | undefined {
  const v = raw.trim().replace(/[\s().-]/g, '');
  const withPlus = v.startsWith('00') ? `+${v.slice(2)}` : v;
  return E164_RE.test(withPlus) ? withPlus : undefined;
}

function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export class CallService {
  constructor(
    private readonly ctx: TelephonyContext,
    /** Whom a transfer to a department rings (the decider's cached roster); none: department transfers are refused. */
    private readonly departmentMembers: (tenantId: string, departmentId: string) => Promise<string[]> = async () => [],
  ) {}

  private async visibleCall(ctx: TenantContext, rawId: string): Promise<CallRow> {
    const violations: FieldViolation[] = [];
    const id = uuidField(violations, 'id', rawId, true);
    if (violations.length) invalid('GetCall', violations);
    const vis = visible(ctx);
    const [row] = await this.ctx.orm.em.fork().execute<CallRow[]>(`SELECT c.* FROM calls c WHERE c.tenant_id = ? AND c.id = ? AND ${vis.sql}`, [ctx.tenantId, id, ...vis.params]);
    if (!row) throw new NotFoundError('call', id);
    return row;
  }

  async get(ctx: TenantContext, id: string) {
    return toProtoCall(await this.visibleCall(ctx, id));
  }

  async list(
    ctx: TenantContext,
    req: { pageSize: number; pageToken: string; contactId: string; requestId: string; userId: string; direction: CallDirection; missed?: boolean; numberId: string; since: string; until: string; live: boolean },
  ) {
    const violations: FieldViolation[] = [];
    if (!Number.isInteger(req.pageSize) || req.pageSize < 0 || req.pageSize > 200) violations.push({ field: 'page_size', message: 'must be 0..200' });
    const contactId = uuidField(violations, 'contact_id', req.contactId);
    const requestId = uuidField(violations, 'request_id', req.requestId);
    const userId = uuidField(violations, 'user_id', req.userId);
    const numberId = uuidField(violations, 'number_id', req.numberId);
    const since = timeField(violations, 'since', req.since);
    const until = timeField(violations, 'until', req.until);
    if (since && until && since >= until) violations.push({ field: 'until', message: 'must be after since' });
    if (req.direction !== CallDirection.CALL_DIRECTION_UNSPECIFIED && req.direction !== CallDirection.CALL_DIRECTION_INBOUND && req.direction !== CallDirection.CALL_DIRECTION_OUTBOUND)
      violations.push({ field: 'direction', message: 'is not a known value' });
    const cursor = decodeCursor(req.pageToken.trim(), violations);
    if (violations.length) invalid('ListCalls', violations);
    const size = req.pageSize || 50;
    const vis = visible(ctx);
    const where = ['c.tenant_id = ?', vis.sql];
    const params: unknown[] = [ctx.tenantId, ...vis.params];
    const eq = (col: string, v: string) => {
      if (v) {
        where.push(`${col} = ?`);
        params.push(v);
      }
    };
    eq('c.contact_id', contactId);
    eq('c.request_id', requestId);
    eq('c.user_id', userId);
    eq('c.number_id', numberId);
    if (req.direction === CallDirection.CALL_DIRECTION_INBOUND) where.push("c.direction = 'inbound'");
    if (req.direction === CallDirection.CALL_DIRECTION_OUTBOUND) where.push("c.direction = 'outbound'");
    if (req.missed !== undefined) where.push(req.missed ? 'c.missed' : 'NOT c.missed');
    if (req.live) where.push("c.status IN ('ringing', 'answered')");
    if (since) {
      where.push('c.started_at >= ?');
      params.push(since);
    }
    if (until) {
      where.push('c.started_at < ?');
      params.push(until);
    }
    if (cursor) {
      where.push('(c.started_at, c.id) < (?::timestamptz, ?::uuid)');
      params.push(cursor[0], cursor[1]);
    }
    const rows = await this.ctx.orm.em
      .fork()
      .execute<CallRow[]>(`SELECT c.* FROM calls c WHERE ${where.join(' AND ')} ORDER BY c.started_at DESC, c.id DESC LIMIT ?`, [...params, size + 1]);
    const page = rows.slice(0, size);
    return { calls: page.map(toProtoCall), nextPageToken: rows.length > size ? encodeCursor(page[page.length - 1]!) : '' };
  }

  async events(ctx: TenantContext, callId: string): Promise<CallEvent[]> {
    const call = await this.visibleCall(ctx, callId);
    const rows = await this.ctx.orm.em
      .fork()
      .execute<{ provider_event_id: string; kind: string; seq: number | null; at: Date; webhook_event_id: string | null; event: unknown; applied_at: Date }[]>(
        'SELECT * FROM call_events WHERE call_id = ? ORDER BY applied_at, provider_event_id',
        [call.id],
      );
    return rows.map((r) => ({
      id: `${call.id}:${r.provider_event_id}`,
      kind: r.kind,
      at: new Date(r.at).toISOString(),
      seq: r.seq ?? 0,
      providerEventId: r.provider_event_id,
      webhookEventId: r.webhook_event_id ?? '',
      detailJson: JSON.stringify(r.event),
    }));
  }

  /** Click-to-call (see the proto): the caller's extension first, then the phone. */
  async originate(ctx: TenantContext, req: { phone: string; requestId: string; contactId: string; connectionId: string; idempotencyKey: string }) {
    const violations: FieldViolation[] = [];
    const phone = e164(req.phone);
    if (!req.phone.trim()) violations.push({ field: 'phone', message: 'is required' });
    else if (!phone) violations.push({ field: 'phone', message: 'must be a phone number with its country code (E.164)' });
    const requestId = uuidField(violations, 'request_id', req.requestId);
    const contactId = uuidField(violations, 'contact_id', req.contactId);
    const connectionId = uuidField(violations, 'connection_id', req.connectionId);
    const key = req.idempotencyKey.trim();
    if (key.length > 200) violations.push({ field: 'idempotency_key', message: 'must be at most 200 characters' });
    if (violations.length) invalid('Originate', violations);
    if (ctx.callerKind !== 'user') throw new DomainError('FAILED_PRECONDITION', 'Originate rings the calling user: a user must call it', { details: { reason: 'no_extension' } });
    const em = this.ctx.orm.em.fork();
    if (key) {
      const [prev] = await em.execute<CallRow[]>('SELECT * FROM calls WHERE tenant_id = ? AND idempotency_key = ?', [ctx.tenantId, key]);
      if (prev) return toProtoCall(prev);
    }
    const conn = connectionId ? await loadConnection(em, connectionId) : await defaultConnection(em, ctx.tenantId);
    if (!conn || conn.tenantId !== ctx.tenantId || conn.disabled) {
      if (connectionId) throw new NotFoundError('connection', connectionId);
      throw new DomainError('FAILED_PRECONDITION', 'the tenant has no default telephony connection', { details: { reason: 'no_connection' } });
    }
    const [ext] = await em.execute<{ extension: string }[]>('SELECT extension FROM extensions WHERE connection_id = ? AND user_id = ?', [conn.id, ctx.callerId]);
    if (!ext) throw new DomainError('FAILED_PRECONDITION', 'you have no extension on this connection', { details: { reason: 'no_extension' } });
    const adapter = ADAPTERS[conn.provider];
    if (!adapter?.originate) throw new DomainError('FAILED_PRECONDITION', `${conn.provider} connections cannot place calls`, { details: { reason: 'not_supported' } });
    let providerCallId: string;
    try {
      ({ providerCallId } = await adapter.originate(conn, { extension: ext.extension, phone: phone! }));
    } catch (err) {
      if (err instanceof DomainError) throw err;
      this.ctx.logger.warn({ err, connectionId: conn.id }, 'originate: the provider refused or did not answer');
      throw new DomainError('UNAVAILABLE', 'the telephony provider did not place the call; try again', { details: { reason: 'provider_unavailable' }, cause: err });
    }
    const now = new Date();
    const [row] = await em.execute<CallRow[]>(
      `INSERT INTO calls (id, tenant_id, connection_id, provider, provider_call_id, direction, status, caller, callee, user_id, answered_extension, request_id, contact_id, started_at, idempotency_key, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'outbound', 'ringing', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (connection_id, provider_call_id) DO UPDATE SET user_id = excluded.user_id, request_id = excluded.request_id, contact_id = excluded.contact_id, idempotency_key = excluded.idempotency_key
       RETURNING *`,
      [uuidv7(), ctx.tenantId, conn.id, conn.provider, providerCallId, ext.extension, phone, ctx.callerId, ext.extension, requestId, contactId, now, key || null, now, now],
    );
    return toProtoCall(row!);
  }

  /** A live call to a colleague's extension, or to a department (its first member on shift with an extension). */
  async transfer(ctx: TenantContext, req: { callId: string; toUserId: string; toDepartmentId: string }) {
    const violations: FieldViolation[] = [];
    const toUser = uuidField(violations, 'to_user_id', req.toUserId);
    const toDept = uuidField(violations, 'to_department_id', req.toDepartmentId);
    if (!toUser && !toDept && !violations.length) violations.push({ field: 'to_user_id', message: 'or to_department_id is required' });
    if (toUser && toDept) violations.push({ field: 'to_department_id', message: 'must be empty when to_user_id is given' });
    uuidField(violations, 'call_id', req.callId, true);
    if (violations.length) invalid('Transfer', violations);
    const call = await this.visibleCall(ctx, req.callId);
    if (call.status !== 'ringing' && call.status !== 'answered') throw new DomainError('FAILED_PRECONDITION', 'the call has ended', { details: { reason: 'call_not_live' } });
    const em = this.ctx.orm.em.fork();
    const conn = await loadConnection(em, call.connection_id);
    const adapter = conn ? ADAPTERS[conn.provider] : undefined;
    if (!conn || !adapter?.transfer) throw new DomainError('FAILED_PRECONDITION', 'this connection cannot transfer calls', { details: { reason: 'not_supported' } });
    // A department: its first member on shift (not away, not the one on the call) with an extension here.
    const candidates = toDept ? (await this.departmentMembers(ctx.tenantId, toDept)).filter((u) => u !== call.user_id) : [toUser!];
    const rows = candidates.length ? await em.execute<{ user_id: string; extension: string }[]>('SELECT user_id, extension FROM extensions WHERE connection_id = ? AND user_id IN (?)', [conn.id, candidates]) : [];
    const byUser = new Map(rows.map((r) => [r.user_id, r.extension]));
    const extension = candidates.map((u) => byUser.get(u)).find(Boolean);
    if (!extension) throw new DomainError('FAILED_PRECONDITION', 'nobody to transfer to has an extension on this connection', { details: { reason: 'no_extension' } });
    try {
      await adapter.transfer(conn, call.provider_call_id, { extension });
    } catch (err) {
      if (err instanceof DomainError) throw err;
      throw new DomainError('UNAVAILABLE', 'the telephony provider did not transfer the call; try again', { details: { reason: 'provider_unavailable' }, cause: err });
    }
    return toProtoCall(call);
  }

  async missedStats(ctx: TenantContext, req: { since: string; until: string; timeZone: string; kind: NumberKind }): Promise<MissedCallStatsResponse> {
    const violations: FieldViolation[] = [];
    const since = timeField(violations, 'since', req.since);
    const until = timeField(violations, 'until', req.until);
    if (!req.since.trim()) violations.push({ field: 'since', message: 'is required' });
    if (!req.until.trim()) violations.push({ field: 'until', message: 'is required' });
    if (since && until && since >= until) violations.push({ field: 'until', message: 'must be after since' });
    if (since && until && until.getTime() - since.getTime() > 366 * 86_400_000) violations.push({ field: 'until', message: 'must be at most 366 days after since' });
    const zoneIn = req.timeZone.trim();
    if (zoneIn && !validZone(zoneIn)) violations.push({ field: 'time_zone', message: 'must be an IANA time zone' });
    const kind = req.kind === NumberKind.NUMBER_KIND_UNSPECIFIED ? '' : KIND_NAMES[req.kind];
    if (kind === undefined) violations.push({ field: 'kind', message: 'is not a known value' });
    if (violations.length) invalid('MissedCallStats', violations);
    let zone = zoneIn;
    if (!zone) {
      const t = await this.ctx.clients.identity.getTenant({}, { tenantId: ctx.tenantId, callerId: 'telephony', callerKind: 'service' });
      zone = t.tenant?.timeZone && validZone(t.tenant.timeZone) ? t.tenant.timeZone : 'UTC';
    }
    const vis = visible(ctx);
    const params: unknown[] = [zone, zone, ctx.tenantId, since, until, ...vis.params];
    let kindSql = '';
    if (kind) {
      kindSql = 'AND c.number_kind = ?';
      params.push(kind);
    }
    const rows = await this.ctx.orm.em.fork().execute<{ number_id: string; phone: string | null; kind: string; hour: Date; missed: string; recovered: string; median: number | null }[]>(
      `SELECT c.number_id, max(n.phone) AS phone, max(c.number_kind) AS kind,
              (date_trunc('hour', c.started_at AT TIME ZONE ?) AT TIME ZONE ?) AS hour,
              count(*) AS missed, count(c.recovered_at) AS recovered,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.recovered_at - coalesce(c.ended_at, c.started_at))) FILTER (WHERE c.recovered_at IS NOT NULL) AS median
         FROM calls c LEFT JOIN numbers n ON n.id::text = c.number_id
        WHERE c.tenant_id = ? AND c.direction = 'inbound' AND c.missed AND c.started_at >= ? AND c.started_at < ? AND ${vis.sql} ${kindSql}
        GROUP BY c.number_id, 4 ORDER BY 4, c.number_id`,
      params,
    );
    let totalMissed = 0;
    let totalRecovered = 0;
    const out = rows.map((r) => {
      totalMissed += Number(r.missed);
      totalRecovered += Number(r.recovered);
      return {
        numberId: r.number_id,
        phone: r.phone ?? '',
        kind: KIND_OF[r.kind] ?? NumberKind.NUMBER_KIND_UNSPECIFIED,
        hour: new Date(r.hour).toISOString(),
        missed: Number(r.missed),
        recovered: Number(r.recovered),
        medianCallbackSeconds: r.median === null ? 0 : Math.round(Number(r.median)),
      };
    });
    return { rows: out, timeZone: zone, totalMissed, totalRecovered };
  }

  async recording(ctx: TenantContext, req: { callId: string; offset: number; limit: number }): Promise<FetchRecordingResponse> {
    const violations: FieldViolation[] = [];
    uuidField(violations, 'call_id', req.callId, true);
    const offset = Number(req.offset);
    if (!Number.isSafeInteger(offset) || offset < 0) violations.push({ field: 'offset', message: 'must be 0 or more' });
    if (!Number.isInteger(req.limit) || req.limit < 0 || req.limit > 1_048_576) violations.push({ field: 'limit', message: 'must be 1..1048576 (0: 1 MiB)' });
    if (violations.length) invalid('FetchRecording', violations);
    const call = await this.visibleCall(ctx, req.callId);
    const limit = req.limit || 1_048_576;
    const [r] = await this.ctx.orm.em
      .fork()
      .execute<{ content_type: string; size_bytes: number; data: Buffer }[]>('SELECT content_type, size_bytes, substring(data FROM ? FOR ?) AS data FROM call_recordings WHERE call_id = ?', [offset + 1, limit, call.id]);
    if (!r) throw new NotFoundError('recording', call.id);
    if (offset > 0 && offset >= r.size_bytes) throw new DomainError('INVALID_ARGUMENT', `offset ${offset} is past the end (${r.size_bytes} bytes)`, { details: { reason: 'out_of_range' }, violations: [{ field: 'offset', message: 'is past the end' }] });
    return { contentType: r.content_type, size: r.size_bytes, offset, data: r.data, durationSeconds: call.duration_seconds };
  }
}
