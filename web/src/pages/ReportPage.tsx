/**
 * Requests per day in the tenant's time zone (the report says which zone it counted in): a date range
 * of local days, the last 7 days by default, and one row per day with its total and per channel.
 */
import { useEffect, useState } from 'react';
import { api, type RequestsPerDayReport } from '../api';
import { ErrorMessage } from '../components/ErrorMessage';
import { useI18n } from '../i18n';
import { dayInZone, zoneLabel } from '../time';

type Loaded = { status: 'loading' } | { status: 'error'; error: unknown } | { status: 'ready'; report: RequestsPerDayReport };

export function ReportPage() {
  const { t, tEnum, timeZone } = useI18n();
  const [from, setFrom] = useState(() => dayInZone(timeZone, -6));
  const [to, setTo] = useState(() => dayInZone(timeZone));
  const [data, setData] = useState<Loaded>({ status: 'loading' });
  const [reload, setReload] = useState(0);

  useEffect(() => {
    if (!from || !to || from > to) return;
    const ctl = new AbortController();
    setData({ status: 'loading' });
    api.requestsPerDay(from, to, undefined, ctl.signal).then(
      (report) => setData({ status: 'ready', report }),
      (error: unknown) => !ctl.signal.aborted && setData({ status: 'error', error }),
    );
    return () => ctl.abort();
  }, [from, to, reload]);

  const days = new Map<string, { total: number; channels: Map<string, number> }>();
  if (data.status === 'ready') {
    for (const r of data.report.items) {
      const d = days.get(r.day) ?? { total: 0, channels: new Map<string, number>() };
      d.total += r.requests;
      d.channels.set(r.channel, (d.channels.get(r.channel) ?? 0) + r.requests);
      days.set(r.day, d);
    }
  }

  return (
    <section className="report" data-testid="report">
      <div className="page-head">
        <h1>{t('report.title')}</h1>
      </div>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label className="filter-field">
          <span>{t('journal.from')}</span>
          <input type="date" value={from} max={to || undefined} data-testid="report-from" onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label className="filter-field">
          <span>{t('journal.to')}</span>
          <input type="date" value={to} min={from || undefined} data-testid="report-to" onChange={(e) => setTo(e.target.value)} />
        </label>
      </form>
      {data.status === 'ready' && (
        <p className="muted" data-testid="report-zone">
          {t('report.zone', { zone: zoneLabel(data.report.time_zone) })}
        </p>
      )}
      {data.status === 'error' ? (
        <ErrorMessage error={data.error} onRetry={() => setReload((n) => n + 1)} testId="report-error" />
      ) : (
        <div className="table-wrap" aria-busy={data.status === 'loading'}>
          <table className="table" data-testid="report-table">
            <thead>
              <tr>
                <th scope="col">{t('report.day')}</th>
                <th scope="col" className="num">
                  {t('report.requests')}
                </th>
                <th scope="col">{t('report.byChannel')}</th>
              </tr>
            </thead>
            <tbody>
              {[...days.entries()].map(([day, d]) => (
                <tr key={day} data-testid="report-row" data-day={day}>
                  <td className="nowrap">{day}</td>
                  <td className="num" data-testid="report-total">
                    {d.total}
                  </td>
                  <td>
                    {[...d.channels.entries()].map(([c, n]) => `${tEnum('channel', c)}: ${n}`).join(', ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.status === 'ready' && days.size === 0 && <p className="page-status">{t('report.empty')}</p>}
        </div>
      )}
    </section>
  );
}
