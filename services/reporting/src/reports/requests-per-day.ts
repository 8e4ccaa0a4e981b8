import { DomainError, ValidationError } from '@crm/errors';
import type { RequestsPerDayRow } from '@crm/contracts/crm/reporting/v1/reporting';
import { readFailure, type ClickHouse } from '../clickhouse/client';
import { date, num, sql, str, type Sql } from '../clickhouse/sql';
import type { DateRange } from '../domain/date-range';
import { shiftDay } from '../domain/time-zone';

/** More rows than this is not a report anyone reads in one response: narrow the range instead. */
export const DEFAULT_MAX_ROWS = 50_000;

/**
 * Distinct requests per local day (in `timeZone`), channel and UTM source of one tenant. FINAL
 * collapses replays that are not merged yet (the latest copy of a request wins), and
 * uniqExact(request_id) counts requests, not rows; both work on ClickHouse 18.16 and current versions.
 * Aliases never reuse a column name: old ClickHouse substitutes aliases into WHERE.
 *
 * The stored `day` is the UTC day (the sorting key). A local day lies within the UTC days before and
 * after it (zones are UTC−12…UTC+14), so the key narrows the scan to those, and
 * `toDate(created_at, zone)` — ClickHouse 18.16 takes the zone as a constant second argument and
 * applies its DST rules — decides the local day. `timeZone` must be a validated, canonical zone name
 * (parseTimeZone); it enters the SQL only as a string literal.
 */
export function requestsPerDaySql(tenantId: string, range: DateRange, timeZone: string, limit: number): Sql {
  const localDay = sql`toDate(created_at, ${str(timeZone)})`;
  return sql`
    SELECT ${localDay} AS local_day, channel, utm_source, uniqExact(request_id) AS request_count
    FROM requests FINAL
    WHERE tenant_id = ${str(tenantId)}
      AND day >= ${date(shiftDay(range.from, -1))} AND day <= ${date(shiftDay(range.to, 1))}
      AND ${localDay} >= ${date(range.from)} AND ${localDay} <= ${date(range.to)}
    GROUP BY local_day, channel, utm_source
    ORDER BY local_day, channel, utm_source
    LIMIT ${num(limit)}`;
}

/** ClickHouse's answer to a zone missing from its zone database (older tzdata than the runtime's ICU). */
const UNKNOWN_ZONE_RE = /Cannot load time zone/i;

export async function requestsPerDay(
  ch: ClickHouse,
  tenantId: string,
  range: DateRange,
  timeZone: string,
  opts: { signal?: AbortSignal; maxRows?: number } = {},
): Promise<RequestsPerDayRow[]> {
  const maxRows = opts.maxRows ?? DEFAULT_MAX_ROWS;
  let rows: { local_day: string; channel: string; utm_source: string; request_count: string | number }[];
  try {
    rows = await ch.query(requestsPerDaySql(tenantId, range, timeZone, maxRows + 1), { signal: opts.signal });
  } catch (err) {
    if (err instanceof Error && UNKNOWN_ZONE_RE.test(err.message)) {
      throw new ValidationError('invalid time_zone', [{ field: 'time_zone', message: `the analytics store does not know the time zone ${timeZone}` }]);
    }
    throw readFailure(err);
  }
  if (rows.length > maxRows) {
    throw new DomainError('RESOURCE_EXHAUSTED', `the report has more than ${maxRows} rows; narrow the date range`, { details: { maxRows } });
  }
  // JSONEachRow writes UInt64 as a string.
  return rows.map((r) => ({ day: r.local_day, channel: r.channel, utmSource: r.utm_source, requests: Number(r.request_count) }));
}
