/** REST ⇄ telephony's NumberService / DniService messages (routes/numbers.ts). */
import {
  NumberKind,
  type GetPoolStatsResponse,
  type LendNumberResponse,
  type NumberFields,
  type PhoneNumber,
  type Pool,
  type PoolFields,
} from '@crm/contracts/crm/telephony/v1/telephony';

export type KindWord = 'advertising' | 'support' | 'sales';

const KIND_IN: Record<KindWord, NumberKind> = {
  advertising: NumberKind.NUMBER_KIND_ADVERTISING,
  support: NumberKind.NUMBER_KIND_SUPPORT,
  sales: NumberKind.NUMBER_KIND_SALES,
};
const KIND_OUT: Record<number, KindWord> = {
  [NumberKind.NUMBER_KIND_ADVERTISING]: 'advertising',
  [NumberKind.NUMBER_KIND_SUPPORT]: 'support',
  [NumberKind.NUMBER_KIND_SALES]: 'sales',
};

export const kindIn = (w: KindWord | undefined): NumberKind => (w ? KIND_IN[w] : NumberKind.NUMBER_KIND_UNSPECIFIED);

const orNull = (s: string): string | null => s || null;

export interface NumberBody {
  phone?: string;
  kind?: KindWord;
  label?: string;
  utm_source?: string;
  utm_medium?: string;
  utm_campaign?: string;
  project_id?: string | null;
  department_id?: string | null;
  connection_id?: string | null;
  default_country?: string;
}

export function numberOut(n: PhoneNumber) {
  return {
    id: n.id,
    phone: n.phone,
    kind: KIND_OUT[n.kind] ?? 'advertising',
    label: n.label,
    utm_source: n.utmSource,
    utm_medium: n.utmMedium,
    utm_campaign: n.utmCampaign,
    project_id: orNull(n.projectId),
    department_id: orNull(n.departmentId),
    pool_id: orNull(n.poolId),
    connection_id: orNull(n.connectionId),
    archived: n.archived,
    created_at: n.createdAt,
    updated_at: n.updatedAt,
  };
}

/** The fields of a body (absent ones empty) and the update mask (the keys present). */
export function numberFieldsIn(b: NumberBody): { fields: NumberFields; mask: string[] } {
  const mask = Object.keys(b).filter((k) => k !== 'phone' && k !== 'default_country');
  return {
    fields: {
      phone: b.phone ?? '',
      kind: kindIn(b.kind),
      label: b.label ?? '',
      utmSource: b.utm_source ?? '',
      utmMedium: b.utm_medium ?? '',
      utmCampaign: b.utm_campaign ?? '',
      projectId: b.project_id ?? '',
      departmentId: b.department_id ?? '',
      connectionId: b.connection_id ?? '',
    },
    mask,
  };
}

export interface PoolBody {
  name?: string;
  number_ids?: string[];
  fallback_phone?: string | null;
  quiet_seconds?: number;
  allowed_origins?: string[];
  archived?: boolean;
}

export function poolOut(p: Pool) {
  return {
    id: p.id,
    name: p.name,
    public_id: p.publicId,
    number_ids: p.numberIds,
    fallback_phone: orNull(p.fallbackPhone),
    quiet_seconds: p.quietSeconds,
    allowed_origins: p.allowedOrigins,
    archived: p.archived,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    script_url: `/dni/${p.publicId}.js`,
  };
}

export function poolFieldsIn(b: PoolBody): { fields: PoolFields; mask: string[] } {
  return {
    fields: {
      name: b.name ?? '',
      numberIds: b.number_ids ?? [],
      fallbackPhone: b.fallback_phone ?? '',
      quietSeconds: b.quiet_seconds ?? 0,
      allowedOrigins: b.allowed_origins ?? [],
    },
    mask: Object.keys(b).filter((k) => k !== 'archived'),
  };
}

export function statsOut(s: GetPoolStatsResponse, since: string, until: string) {
  return {
    since,
    until,
    lends: Number(s.lends),
    fallback_shows: Number(s.fallbackShows),
    calls: Number(s.calls),
    attributed: Number(s.attributed),
    collisions: Number(s.collisions),
    unexplained: Number(s.unexplained),
    collision_rate: s.collisionRate,
  };
}

export function leaseOut(l: LendNumberResponse) {
  return { phone: orNull(l.phone), display: orNull(l.display), fallback: l.fallback, lease_expires_at: l.leaseExpiresAt, heartbeat_seconds: l.heartbeatSeconds };
}
