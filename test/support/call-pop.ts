/**
 * What the screen-pop tests (test/browser/telephony, test/bench/screen-pop) set up through telephony's own
 * gRPC API — a generic connection (its signing secret), employees' extensions, an advertising number —
 * and how a PBX speaks to it: a Standard Webhooks-signed generic event POSTed to the gateway's public
 * `/webhooks/telephony/{connection id}` (signed with the adapter's own signGeneric).
 */
import { ConnectionServiceService, NumberKind, NumberServiceService, Provider } from '@crm/contracts/crm/telephony/v1/telephony';
import { createClient, type TenantContext } from '@crm/grpc';
import { signGeneric, type GenericCallEvent } from '@crm/telephony/src/adapters/generic';
import { randomUUID } from 'node:crypto';

export interface PbxSetup {
  connectionId: string;
  secret: string;
  /** The advertising number (E.164). */
  number: string;
}

/** A generic default connection, the extensions given (user id → extension) and an advertising number. */
export async function setUpPbx(telephonyAddr: string, tenantId: string, extensions: Record<string, string>, number: string): Promise<PbxSetup> {
  const ctx: TenantContext = { tenantId, callerId: 'test', callerKind: 'service' };
  const connections = createClient(ConnectionServiceService, { address: telephonyAddr });
  const numbers = createClient(NumberServiceService, { address: telephonyAddr });
  try {
    const created = await connections.createConnection(
      { connection: { provider: Provider.PROVIDER_GENERIC, name: `PBX ${randomUUID().slice(0, 6)}`, apiBaseUrl: '', account: '', secret: '', fallbackTarget: '', isDefault: true, disabled: false } },
      ctx,
    );
    const connectionId = created.connection!.id;
    for (const [userId, extension] of Object.entries(extensions)) await connections.setExtension({ connectionId, userId, extension }, ctx);
    await numbers.createNumber(
      {
        number: { phone: number, kind: NumberKind.NUMBER_KIND_ADVERTISING, label: 'Яндекс.Директ', utmSource: 'yandex', utmMedium: 'cpc', utmCampaign: 'winter', projectId: '', departmentId: '', connectionId },
        defaultCountry: 'RU',
      },
      ctx,
    );
    return { connectionId, secret: created.signingSecret, number };
  } finally {
    connections.close();
    numbers.close();
  }
}

/** POSTs one signed generic event as a PBX would; the gateway's answer. */
export async function sendGeneric(base: string, pbx: PbxSetup, event: Omit<GenericCallEvent, 'at'> & { at?: string }): Promise<Response> {
  const body = JSON.stringify({ at: new Date().toISOString(), ...event });
  const id = `msg_${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  return fetch(`${base}/webhooks/telephony/${pbx.connectionId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signGeneric(pbx.secret, id, ts, body) },
    body,
  });
}
