/** Between the REST shapes of connections / extensions (connection-schemas.ts) and telephony's messages. */
import { Provider, type Connection, type ConnectionFields, type DecideResponse, type Extension } from '@crm/contracts/crm/telephony/v1/telephony';
import { DomainError } from '@crm/errors';
import { fromServiceError, isServiceError } from '@crm/grpc';
import { PROVIDERS } from './connection-schemas';

type ProviderWord = (typeof PROVIDERS)[number];
const TO_ENUM: Record<ProviderWord, Provider> = {
  generic: Provider.PROVIDER_GENERIC,
  mango: Provider.PROVIDER_MANGO,
  zadarma: Provider.PROVIDER_ZADARMA,
  twilio: Provider.PROVIDER_TWILIO,
  kamailio: Provider.PROVIDER_KAMAILIO,
};
const TO_WORD = new Map<Provider, ProviderWord>(Object.entries(TO_ENUM).map(([w, p]) => [p, w as ProviderWord]));

export interface ConnectionBody {
  provider?: ProviderWord;
  name?: string;
  api_base_url?: string;
  account?: string;
  secret?: string;
  fallback_target?: string;
  is_default?: boolean;
  disabled?: boolean;
}

const FIELDS = ['name', 'api_base_url', 'account', 'secret', 'fallback_target', 'is_default', 'disabled'] as const;

export function connectionFieldsIn(b: ConnectionBody): ConnectionFields {
  return {
    provider: b.provider ? TO_ENUM[b.provider] : Provider.PROVIDER_UNSPECIFIED,
    name: b.name ?? '',
    apiBaseUrl: b.api_base_url ?? '',
    account: b.account ?? '',
    secret: b.secret ?? '',
    fallbackTarget: b.fallback_target ?? '',
    isDefault: b.is_default ?? false,
    disabled: b.disabled ?? false,
  };
}

/** The update mask of a PATCH body: the fields present. */
export const connectionMaskIn = (b: ConnectionBody): string[] => FIELDS.filter((f) => b[f] !== undefined);

export function connectionOut(c: Connection) {
  return {
    id: c.id,
    provider: TO_WORD.get(c.provider) ?? 'generic',
    name: c.name,
    api_base_url: c.apiBaseUrl,
    account: c.account,
    webhook_url: c.webhookUrl,
    fallback_target: c.fallbackTarget,
    is_default: c.isDefault,
    disabled: c.disabled,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

export const extensionOut = (e: Extension) => ({ id: e.id, connection_id: e.connectionId, user_id: e.userId, extension: e.extension, created_at: e.createdAt });

export const decisionOut = (d: DecideResponse) => ({
  extensions: d.extensions,
  user_ids: d.userIds,
  queue: d.queue || null,
  department_id: d.departmentId || null,
  decided_by: d.decidedBy || 'fallback',
  fallback: d.fallback,
  fallback_target: d.fallbackTarget || null,
});

/** telephony names body fields `connection.<field>`; the REST body has them at the top. */
export async function withBodyFields<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    const e = isServiceError(err) ? fromServiceError(err) : err;
    if (e instanceof DomainError && e.violations.length) {
      throw new DomainError(e.code, e.message, { details: e.details, violations: e.violations.map((v) => ({ ...v, field: v.field.replace(/^connection\./, '') })) });
    }
    throw e;
  }
}
