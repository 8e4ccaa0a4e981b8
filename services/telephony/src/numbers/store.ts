import type { EntityManager } from '@crm/db';

/** A number as the other areas read it (numbers.service.ts owns the NumberService). */
export interface NumberRow {
  id: string;
  tenantId: string;
  phone: string;
  kind: 'advertising' | 'support' | 'sales';
  label: string;
  utmSource: string;
  utmMedium: string;
  utmCampaign: string;
  projectId: string;
  departmentId: string;
  poolId: string;
  connectionId: string;
}

interface Raw {
  id: string;
  tenant_id: string;
  phone: string;
  kind: NumberRow['kind'];
  label: string;
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  project_id: string;
  department_id: string;
  pool_id: string | null;
  connection_id: string | null;
}

export const numberRowOf = (r: Raw): NumberRow => ({
  id: r.id,
  tenantId: r.tenant_id,
  phone: r.phone,
  kind: r.kind,
  label: r.label,
  utmSource: r.utm_source,
  utmMedium: r.utm_medium,
  utmCampaign: r.utm_campaign,
  projectId: r.project_id,
  departmentId: r.department_id,
  poolId: r.pool_id ?? '',
  connectionId: r.connection_id ?? '',
});

/** The active number with this E.164 phone, whatever the tenant (a dialed number says whose call it is). */
export async function findActiveNumber(em: EntityManager, phone: string): Promise<NumberRow | undefined> {
  const [r] = await em.execute<Raw[]>('SELECT * FROM numbers WHERE phone = ? AND NOT archived', [phone]);
  return r ? numberRowOf(r) : undefined;
}
