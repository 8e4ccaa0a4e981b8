/**
 * Tenant settings for admins: the tenant's time zone (reports count days in it, every time in the UI is
 * shown in it). Others see the zone but cannot change it. Links to the team settings sections. The list of zones is the browser's own
 * (`Intl.supportedValuesOf`); the gateway and identity validate whatever is sent.
 */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { api, type Me, type Tenant } from '../api';
import { ErrorMessage } from '../components/ErrorMessage';
import { useI18n, type MessageKey } from '../i18n';
import { SettingsTabs } from '../features/settings/common';
import { Link } from '../router';
import { zoneLabel } from '../time';

function browserZones(current: string): string[] {
  let zones: string[] = [];
  try {
    zones = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  } catch {
    zones = [];
  }
  return [...new Set(['UTC', ...zones, current].filter(Boolean))].sort((a, b) => (a === 'UTC' ? -1 : b === 'UTC' ? 1 : a.localeCompare(b)));
}

/** The team settings sections (features/settings), linked from here. */
const SECTIONS: { to: string; label: MessageKey; hint: MessageKey; admin?: boolean }[] = [
  { to: '/settings/team', label: 'team.nav.team', hint: 'team.sections.team' },
  { to: '/settings/departments', label: 'team.nav.departments', hint: 'team.sections.departments' },
  { to: '/settings/projects', label: 'team.nav.projects', hint: 'team.sections.projects' },
  { to: '/settings/shifts', label: 'team.nav.shifts', hint: 'team.sections.shifts' },
  { to: '/settings/api-keys', label: 'team.nav.apiKeys', hint: 'team.sections.apiKeys', admin: true },
  { to: '/settings/forms', label: 'team.nav.forms', hint: 'team.sections.forms', admin: true },
  { to: '/settings/audit', label: 'team.nav.audit', hint: 'team.sections.audit', admin: true },
];

export function SettingsPage({ me, onTimeZoneChanged }: { me: Me; onTimeZoneChanged: (zone: string) => void }) {
  const { t, applyTenantTimeZone } = useI18n();
  const isAdmin = me.scopes.includes('identity:admin');
  const [tenant, setTenant] = useState<Tenant | null>(null);
  const [zone, setZone] = useState(me.time_zone);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const zones = useMemo(() => browserZones(me.time_zone), [me.time_zone]);

  useEffect(() => {
    if (!isAdmin) return;
    const ctl = new AbortController();
    api.getTenant(ctl.signal).then(
      (t) => {
        setTenant(t);
        setZone(t.time_zone);
      },
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [isAdmin]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const updated = await api.updateTenant({ time_zone: zone });
      setTenant(updated);
      setZone(updated.time_zone);
      applyTenantTimeZone(updated.time_zone);
      onTimeZoneChanged(updated.time_zone);
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="settings" data-testid="settings">
      <SettingsTabs me={me} />
      <div className="page-head">
        <h1>{t('settings.title')}</h1>
      </div>
      <nav className="panel settings-sections" aria-labelledby="settings-sections-title" data-testid="settings-sections">
        <h2 id="settings-sections-title">{t('team.sections.title')}</h2>
        <ul className="plain-list">
          {SECTIONS.filter((s) => !s.admin || isAdmin).map((s) => (
            <li key={s.to}>
              <Link to={s.to} data-testid={`settings-link-${s.to.split('/')[2]}`}>
                {t(s.label)}
              </Link>{' '}
              <span className="muted">— {t(s.hint)}</span>
            </li>
          ))}
        </ul>
      </nav>
      <div className="panel">
        {!isAdmin ? (
          <p data-testid="settings-readonly">
            {t('settings.timeZone')}: <strong>{zoneLabel(me.time_zone)}</strong> — {t('settings.adminOnly')}
          </p>
        ) : (
          <form className="settings-form" onSubmit={submit}>
            <label className="field">
              <span>{t('settings.timeZone')}</span>
              <select value={zone} data-testid="settings-time-zone" disabled={!tenant || busy} onChange={(e) => setZone(e.target.value)}>
                {zones.map((z) => (
                  <option key={z} value={z}>
                    {z}
                  </option>
                ))}
              </select>
            </label>
            <p className="hint">{t('settings.timeZoneHint')}</p>
            {error !== null && <ErrorMessage error={error} testId="settings-error" />}
            <button type="submit" className="button-primary" data-testid="settings-save" disabled={!tenant || busy || zone === tenant?.time_zone}>
              {busy ? t('settings.saving') : t('settings.save')}
            </button>
            {saved && (
              <p role="status" data-testid="settings-saved">
                {t('settings.saved', { zone: zoneLabel(zone) })}
              </p>
            )}
          </form>
        )}
      </div>
    </section>
  );
}
