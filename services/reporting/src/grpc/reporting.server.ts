import { ReportingServiceService } from '@crm/contracts/crm/reporting/v1/reporting';
import { registration, type ServiceRegistration } from '@crm/grpc';
import type { ClickHouse } from '../clickhouse/client';
import { parseDateRange } from '../domain/date-range';
import { parseTimeZone } from '../domain/time-zone';
import { requestsPerDay } from '../reports/requests-per-day';

export const REPORTING_SERVICE = 'crm.reporting.v1.ReportingService';

/** crm.reporting.v1.ReportingService: every report is scoped to the caller's tenant (ctx.tenantId). */
export function reportingService(deps: { clickhouse: ClickHouse; maxRows?: number }): ServiceRegistration {
  return registration(REPORTING_SERVICE, ReportingServiceService, {
    requestsPerDay: async (req, ctx) => {
      const range = parseDateRange(req.dateFrom, req.dateTo);
      const timeZone = parseTimeZone(req.timeZone);
      const rows = await requestsPerDay(deps.clickhouse, ctx.tenantId, range, timeZone, { signal: ctx.signal, maxRows: deps.maxRows });
      return { rows, timeZone };
    },
  });
}
