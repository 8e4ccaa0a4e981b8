/**
 * The `telephony_download_recording` job: the recording a `recording_ready` event announced is fetched
 * (the connection's adapter `downloadRecording`, or a plain GET through http/provider-client.ts on the
 * connection's API host) and kept in `call_recordings` (bytea, at most 50 MB); then `recording_ready` is
 * published once. A failure throws: graphile retries (max_attempts 10).
 */
import { CallRecordingReady } from '@crm/contracts/crm/telephony/events/v1/call_events';
import { ADAPTERS } from '../adapters/registry';
import { loadConnection } from '../connections/store';
import type { TelephonyContext } from '../context';
import { CALL_RECORDING_READY } from '../events';
import { providerRequest } from '../http/provider-client';
import type { DownloadRecordingPayload } from '../jobs';
import { enqueueCallEvent, lockCall, readCall, toProtoCall } from './row';

export const RECORDING_MAX_BYTES = 50 * 1024 * 1024;

export async function downloadRecording(ctx: TelephonyContext, payload: DownloadRecordingPayload): Promise<void> {
  const em = ctx.orm.em.fork();
  const call = await readCall(em, payload.callId);
  if (!call || call.tenant_id !== payload.tenantId) return;
  const conn = await loadConnection(em, call.connection_id);
  if (!conn) return;
  const adapter = ADAPTERS[conn.provider];
  let got: { contentType: string; data: Buffer };
  if (adapter?.downloadRecording) got = await adapter.downloadRecording(conn, payload.url);
  else {
    const hosts: string[] = [];
    try {
      if (conn.apiBaseUrl) hosts.push(new URL(conn.apiBaseUrl).host);
    } catch {
      // No API base URL: only the recording URL's own host below.
    }
    hosts.push(new URL(payload.url).host);
    const res = await providerRequest({ method: 'GET', path: payload.url, baseUrl: conn.apiBaseUrl || undefined, allowedHosts: hosts, maxBytes: RECORDING_MAX_BYTES, timeoutMs: 60_000 });
    got = { contentType: res.contentType || 'application/octet-stream', data: res.body };
  }
  if (got.data.length > RECORDING_MAX_BYTES) {
    ctx.logger.warn({ callId: call.id, bytes: got.data.length }, 'calls: a recording over 50 MB is not kept');
    return;
  }
  await ctx.orm.em.fork().transactional(async (tx) => {
    const row = await lockCall(tx, call.id);
    if (!row) return;
    await tx.execute(
      `INSERT INTO call_recordings (call_id, tenant_id, content_type, size_bytes, data, created_at) VALUES (?, ?, ?, ?, ?, now())
       ON CONFLICT (call_id) DO UPDATE SET content_type = excluded.content_type, size_bytes = excluded.size_bytes, data = excluded.data, created_at = excluded.created_at`,
      [row.id, row.tenant_id, got.contentType.slice(0, 200), got.data.length, got.data],
    );
    await tx.execute('UPDATE calls SET has_recording = true, updated_at = now() WHERE id = ?', [row.id]);
    if (!row.published.includes('recording_ready')) {
      enqueueCallEvent(tx, row, CALL_RECORDING_READY, CallRecordingReady, { call: toProtoCall({ ...row, has_recording: true }) });
      await tx.execute("UPDATE calls SET published = array_append(published, 'recording_ready') WHERE id = ?", [row.id]);
    }
  });
}
