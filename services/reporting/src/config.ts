import { common, loadConfig, z } from '@crm/config';
import { baseServiceEnv } from '@crm/service';
import { IDENT_RE } from './clickhouse/sql';

/**
 * Reporting's environment: the shared service variables without DATABASE_URL (reporting has no
 * PostgreSQL), plus ClickHouse and the sink's batching.
 */
export const reportingEnv = baseServiceEnv.omit({ DATABASE_URL: true }).extend({
  CLICKHOUSE_URL: common.url,
  /** Created when missing. */
  CLICKHOUSE_DATABASE: z.string().regex(IDENT_RE, 'letters, digits and _ only').max(128).default('crm_reporting'),
  /** Insert when this many rows are buffered... */
  REPORTING_BATCH_ROWS: z.coerce.number().int().min(1).max(100_000).default(1000),
  /** ...or this many ms after the first buffered row. */
  REPORTING_BATCH_MS: z.coerce.number().int().min(1).max(60_000).default(1000),
});
export type ReportingEnv = z.infer<typeof reportingEnv>;

/** Parses process.env; prints every problem and exits 78 when invalid. */
export function loadReportingConfig(env: NodeJS.ProcessEnv = process.env): ReportingEnv {
  return loadConfig(reportingEnv, env);
}
