/**
 * `/calls`: the calls list with filters (direction, missed only, live only, mine only, a time range) and the
 * missed-calls view (`/calls?view=missed`): missed calls per number kind, number and hour with recoveries.
 */
import { useState } from 'react';
import type { Me } from '../../api';
import { useI18n } from '../../i18n';
import { navigate, useLocation } from '../../router';
import type { CallFilters } from './api';
import { CallList } from './CallList';
import { MissedCalls } from './MissedCalls';

/** A `datetime-local` value (no zone: the browser's) as RFC 3339, or undefined. */
const instant = (v: string) => (v ? new Date(v).toISOString() : undefined);

export function CallsPage({ me }: { me: Me }) {
  const { t } = useI18n();
  const location = useLocation();
  const view = new URLSearchParams(location.query).get('view') === 'missed' ? 'missed' : 'all';
  const [direction, setDirection] = useState<'' | 'inbound' | 'outbound'>('');
  const [missed, setMissed] = useState(false);
  const [live, setLive] = useState(false);
  const [mine, setMine] = useState(false);
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');

  const filters: CallFilters = {
    direction: direction || undefined,
    missed: missed || undefined,
    live: live || undefined,
    user_id: mine ? me.subject_id : undefined,
    since: instant(since),
    until: instant(until),
  };

  return (
    <section className="calls-page" data-testid="calls-page">
      <div className="page-head">
        <h1>{t('telephony.calls.title')}</h1>
      </div>
      <div className="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={view === 'all'} className={view === 'all' ? 'tab active' : 'tab'} onClick={() => navigate('/calls')} data-testid="calls-tab-all">
          {t('telephony.calls.tab.all')}
        </button>
        <button type="button" role="tab" aria-selected={view === 'missed'} className={view === 'missed' ? 'tab active' : 'tab'} onClick={() => navigate('/calls?view=missed')} data-testid="calls-tab-missed">
          {t('telephony.calls.tab.missed')}
        </button>
      </div>
      {view === 'missed' ? (
        <MissedCalls />
      ) : (
        <>
          <div className="filters">
            <label>
              {t('telephony.calls.filter.direction')}{' '}
              <select value={direction} onChange={(e) => setDirection(e.target.value as typeof direction)} data-testid="calls-direction">
                <option value="">{t('telephony.calls.filter.any')}</option>
                <option value="inbound">{t('telephony.calls.direction.inbound')}</option>
                <option value="outbound">{t('telephony.calls.direction.outbound')}</option>
              </select>
            </label>
            <label className="check">
              <input type="checkbox" checked={missed} onChange={(e) => setMissed(e.target.checked)} data-testid="calls-missed" />
              {t('telephony.calls.filter.missedOnly')}
            </label>
            <label className="check">
              <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} />
              {t('telephony.calls.filter.liveOnly')}
            </label>
            {me.kind === 'user' && (
              <label className="check">
                <input type="checkbox" checked={mine} onChange={(e) => setMine(e.target.checked)} />
                {t('telephony.calls.filter.mine')}
              </label>
            )}
            <label>
              {t('telephony.calls.filter.since')} <input type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
            </label>
            <label>
              {t('telephony.calls.filter.until')} <input type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
            </label>
          </div>
          <CallList filters={filters} />
        </>
      )}
    </section>
  );
}
