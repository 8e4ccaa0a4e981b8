/**
 * The demo tenant's telephony, made once by `npm start`: a generic PBX connection (the Standard
 * Webhooks-style signed JSON any PBX or middleware can send), extensions 101 for the demo admin and 102
 * for Sergey Seller, and an advertising number (Yandex / cpc / demo). The connection's signing secret is
 * shown once by telephony, so it is kept in the run folder (`demo-telephony.json`, mode 600); when the
 * database outlived that file, the secret is rotated to learn a new one. `npm run demo:call` sends signed
 * test events to it (tools/src/demo-call.ts).
 */
import { TeamServiceService } from '@crm/contracts/crm/identity/v1/team';
import { ConnectionServiceService, NumberKind, NumberServiceService, Provider } from '@crm/contracts/crm/telephony/v1/telephony';
import { createClient, status, type ServiceError, type TenantContext } from '@crm/grpc';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface DemoTelephony {
  connectionId: string;
  signingSecret: string;
  /** The advertising number (E.164) calls are made to. */
  number: string;
  /** Extension → the user's e-mail. */
  extensions: Record<string, string>;
}

export const DEMO_CONNECTION = 'Demo PBX (generic)';
export const DEMO_NUMBER = '+74950000100';
const DEMO_EXTENSIONS: Record<string, string> = { '101': 'admin@demo.local', '102': 'seller1@demo.local' };

export async function ensureDemoTelephony(telephonyAddr: string, identityAddr: string, tenantId: string, file: string): Promise<DemoTelephony> {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoTelephony;
  const ctx: TenantContext = { tenantId, callerId: 'npm-start', callerKind: 'service' };
  const connections = createClient(ConnectionServiceService, { address: telephonyAddr, defaultDeadlineMs: 15_000 });
  const numbers = createClient(NumberServiceService, { address: telephonyAddr, defaultDeadlineMs: 15_000 });
  const team = createClient(TeamServiceService, { address: identityAddr, defaultDeadlineMs: 15_000 });
  try {
    const existing = (await connections.listConnections({ pageSize: 100, pageToken: '' }, ctx)).connections.find((c) => c.name === DEMO_CONNECTION);
    const made = existing
      ? await connections.rotateSecret({ id: existing.id }, ctx)
      : await connections.createConnection(
          { connection: { provider: Provider.PROVIDER_GENERIC, name: DEMO_CONNECTION, apiBaseUrl: '', account: '', secret: '', fallbackTarget: '', isDefault: true, disabled: false } },
          ctx,
        );
    const connectionId = made.connection!.id;
    for (const [extension, email] of Object.entries(DEMO_EXTENSIONS)) {
      const user = (await team.listTeamUsers({ page: undefined, departmentId: '', includeInactive: false, query: email }, ctx)).users.find((u) => u.email === email);
      if (user) await connections.setExtension({ connectionId, userId: user.id, extension }, ctx).catch(alreadyThere);
    }
    await numbers
      .createNumber(
        {
          number: { phone: DEMO_NUMBER, kind: NumberKind.NUMBER_KIND_ADVERTISING, label: 'Yandex Direct (demo)', utmSource: 'yandex', utmMedium: 'cpc', utmCampaign: 'demo', projectId: '', departmentId: '', connectionId },
          defaultCountry: 'RU',
        },
        ctx,
      )
      .catch(alreadyThere);
    const demo: DemoTelephony = { connectionId, signingSecret: made.signingSecret, number: DEMO_NUMBER, extensions: DEMO_EXTENSIONS };
    writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
    return demo;
  } finally {
    connections.close();
    numbers.close();
    team.close();
  }
}

function alreadyThere(err: ServiceError): void {
  if (err.code !== status.ALREADY_EXISTS && err.code !== status.FAILED_PRECONDITION) throw err;
}
