import { DomainError } from '@crm/errors';
import type { RequestsPerDayRow } from '@crm/contracts/crm/reporting/v1/reporting';
import { readFailure, type ClickHouse } from '../clickhouse/client';
import { date, num, sql, str, type Sql } from '../clickhouse/sql';
import type { DateRange } from '../domain/date-range';

/** More rows than this is not a report anyone reads in one response: narrow the range instead. */
export const DEFAULT_MAX_ROWS = 50_000;

/**
 * Distinct requests per day, channel and UTM source of one tenant. FINAL collapses replays that are
 * not merged yet (the latest copy of a request wins), and uniqExact(request_id) counts requests, not
 * rows; both work on ClickHouse 18.16 and current versions. Aliases never reuse a column name: old
 * ClickHouse substitutes aliases into WHERE.
 */
export function requestsPerDaySql(tenantId: string, range: DateRange, limit: number): Sql {
  return sql`
    SELECT day, channel, utm_source, uniqExact(request_id) AS request_count
    FROM requests FINAL
    WHERE tenant_id = ${str(tenantId)} AND day >= ${date(range.from)} AND day <= ${date(range.to)}
    GROUP BY day, channel, utm_source
    ORDER BY day, channel, utm_source
    LIMIT ${num(limit)}`;
}

export async function requestsPerDay(
  ch: ClickHouse,
  tenantId: string,
  range: DateRange,
  opts: { signal?: AbortSignal; maxRows?: number } = {},
): Promise<RequestsPerDayRow[]> {
  const maxRows = opts.maxRows ?? DEFAULT_MAX_ROWS;
  let rows: { day: string; channel: string; utm_source: string; request_count: string | number }[];
  try {
    rows = await ch.query(requestsPerDaySql(tenantId, range, maxRows + 1), { signal: opts.signal });
  } catch (err) {
    throw readFailure(err);
  }
  if (rows.length > maxRows) {
    throw new DomainError('RESOURCE_EXHAUSTED', `the report has more than ${maxRows} rows; narrow the date range`, { details: { maxRows } });
  }
  // JSONEachRow writes UInt64 as a string.
  return rows.map((r) => ({ day: r.day, channel: r.channel, utmSource: r.utm_source, requests: Number(r.request_count) }));
}
