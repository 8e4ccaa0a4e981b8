/**
 * Shifts: a week per department (its members × the seven days, in the tenant's zone), each cell listing
 * the shifts that start that day with a remove button; "add a shift" (member, day, from, to — a "to"
 * not after "from" ends the next day); and who is on duty right now (`GET /v1/team/roster`).
 */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { Me } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { navigate, useLocation } from '../../router';
import { dayInZone, zonedMidnight } from '../../time';
import { teamApi, type Roster, type Shift, type TeamUser } from './api';
import { allUsers, NotAllowed, SettingsFrame, useAccess, useDepartments, useStoredDraft, useTeamI18n, violations } from './common';
import { addDays, mondayOf } from './logic';
import { dayOf, timeInZone, wallToIso } from './zone';

export function ShiftsPage({ me }: { me: Me }) {
  const { t, tTeam, timeZone } = useTeamI18n();
  const zone = timeZone || me.time_zone;
  const access = useAccess(me);
  const location = useLocation();
  const { departments } = useDepartments();
  const departmentId = location.search.get('department') || departments[0]?.id || '';
  const week = mondayOf(/^\d{4}-\d{2}-\d{2}$/.test(location.search.get('week') ?? '') ? location.search.get('week')! : dayInZone(zone));
  const days = useMemo(() => Array.from({ length: 7 }, (_, i) => addDays(week, i)), [week]);
  const [members, setMembers] = useState<TeamUser[]>([]);
  const [shifts, setShifts] = useState<Shift[]>([]);
  const [roster, setRoster] = useState<Roster | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  const reload = () => setN((x) => x + 1);

  const go = (patch: { department?: string; week?: string }) => {
    const s = new URLSearchParams(location.query);
    if (patch.department !== undefined) s.set('department', patch.department);
    if (patch.week !== undefined) s.set('week', patch.week);
    navigate(`/settings/shifts?${s}`, { replace: true });
  };

  useEffect(() => {
    if (!departmentId) return;
    const ctl = new AbortController();
    const from = zonedMidnight(week, zone).toISOString();
    const to = zonedMidnight(week, zone, 7).toISOString();
    Promise.all([allUsers({ department: departmentId }, ctl.signal), teamApi.listShifts({ from, to, department: departmentId }, ctl.signal), teamApi.roster(ctl.signal).catch(() => null)]).then(
      ([users, list, r]) => {
        setMembers(users.filter((u) => u.active));
        setShifts(list);
        setRoster(r);
        setError(null);
      },
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [departmentId, week, zone, n]);

  const canEdit = access.manages(departmentId);
  const onDuty = (roster?.users ?? []).filter((u) => u.department_ids.includes(departmentId) && u.on_shift && !u.away);
  const today = dayInZone(zone);

  return (
    <SettingsFrame me={me} title={t('team.shifts.title')} testId="shifts-page">
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label className="filter-field">
          <span>{t('team.users.department')}</span>
          <select value={departmentId} onChange={(e) => go({ department: e.target.value })} data-testid="shifts-department">
            {departments.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <div className="inline-fields" role="group" aria-label={t('team.shifts.week')}>
          <button type="button" className="button-secondary" onClick={() => go({ week: addDays(week, -7) })} data-testid="shifts-prev">
            ← {t('team.shifts.prev')}
          </button>
          <span data-testid="shifts-week">{t('team.shifts.weekOf', { from: days[0], to: days[6] })}</span>
          <button type="button" className="button-secondary" onClick={() => go({ week: addDays(week, 7) })} data-testid="shifts-next">
            {t('team.shifts.next')} →
          </button>
        </div>
      </form>
      {error !== null && <ErrorMessage error={error} onRetry={reload} testId="shifts-error" />}
      <section className="panel" aria-labelledby="on-duty-title" data-testid="on-duty">
        <h2 id="on-duty-title">{t('team.shifts.onDuty')}</h2>
        {onDuty.length ? (
          <ul className="inline-list">
            {onDuty.map((u) => (
              <li key={u.id} className="badge user-active" data-testid="on-duty-user">
                {u.display_name}
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">{t('team.shifts.nobody')}</p>
        )}
      </section>
      <div className="table-wrap">
        <table className="table compact shifts-table" data-testid="shifts-table">
          <caption className="visually-hidden">{t('team.shifts.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('team.users.name')}</th>
              {days.map((d, i) => (
                <th key={d} scope="col" className={d === today ? 'today' : undefined}>
                  {tTeam('weekday', i + 1)} <span className="muted">{d.slice(5)}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {members.map((u) => (
              <tr key={u.id} data-testid="shift-user" data-id={u.id}>
                <th scope="row">{u.display_name || u.email}</th>
                {days.map((d) => {
                  const mine = shifts.filter((s) => s.user_id === u.id && dayOf(s.starts_at, zone) === d);
                  return (
                    <td key={d} data-label={d}>
                      {mine.map((s) => (
                        <ShiftChip key={s.id} shift={s} zone={zone} canEdit={canEdit} onRemoved={() => setShifts((list) => list.filter((x) => x.id !== s.id))} />
                      ))}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {members.length === 0 && departmentId && <p className="muted">{t('team.departments.noMembers')}</p>}
      {canEdit && members.length > 0 && <AddShift members={members} zone={zone} defaultDay={days.includes(today) ? today : days[0]} onAdded={(s) => setShifts((list) => [...list, s])} />}
      {!canEdit && departmentId && <NotAllowed />}
    </SettingsFrame>
  );
}

function ShiftChip({ shift, zone, canEdit, onRemoved }: { shift: Shift; zone: string; canEdit: boolean; onRemoved: () => void }) {
  const { t } = useTeamI18n();
  const [error, setError] = useState<unknown>(null);
  const label = `${timeInZone(shift.starts_at, zone)}–${timeInZone(shift.ends_at, zone)}`;
  return (
    <div className="shift" data-testid="shift" data-id={shift.id}>
      <span>{label}</span>
      {canEdit && (
        <button
          type="button"
          className="button-secondary"
          aria-label={t('team.shifts.remove', { shift: label })}
          onClick={async () => {
            try {
              await teamApi.removeShift(shift.id);
              onRemoved();
            } catch (err) {
              setError(err);
            }
          }}
          data-testid="shift-remove"
        >
          ×
        </button>
      )}
      {error !== null && <ErrorMessage error={error} />}
    </div>
  );
}

function AddShift({ members, zone, defaultDay, onAdded }: { members: TeamUser[]; zone: string; defaultDay: string; onAdded: (s: Shift) => void }) {
  const { t } = useTeamI18n();
  const [draft, setDraft, clear] = useStoredDraft('shift.new', { user: '', day: '', from: '09:00', to: '18:00' });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const user = draft.user && members.some((m) => m.id === draft.user) ? draft.user : members[0].id;
  const day = draft.day || defaultDay;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const starts = wallToIso(`${day}T${draft.from}`, zone);
    const ends = wallToIso(`${draft.to > draft.from ? day : addDays(day, 1)}T${draft.to}`, zone);
    if (!starts || !ends) {
      setError(new Error('bad time'));
      return;
    }
    setBusy(true);
    try {
      onAdded(await teamApi.addShift({ user_id: user, starts_at: starts, ends_at: ends }));
      clear();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const v = violations(error);
  return (
    <form className="panel form-grid" onSubmit={submit} noValidate data-testid="shift-form" aria-labelledby="shift-new-title">
      <h2 id="shift-new-title">{t('team.shifts.add')}</h2>
      <div className="field">
        <label htmlFor="shift-user">{t('team.shifts.user')}</label>
        <select id="shift-user" value={user} onChange={(e) => setDraft((d) => ({ ...d, user: e.target.value }))} data-testid="shift-user-select">
          {members.map((m) => (
            <option key={m.id} value={m.id}>
              {m.display_name || m.email}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="shift-day">{t('team.shifts.day')}</label>
        <input id="shift-day" type="date" value={day} onChange={(e) => setDraft((d) => ({ ...d, day: e.target.value }))} data-testid="shift-day" />
      </div>
      <div className="field">
        <label htmlFor="shift-from">{t('team.shifts.from')}</label>
        <input id="shift-from" type="time" value={draft.from} onChange={(e) => setDraft((d) => ({ ...d, from: e.target.value }))} data-testid="shift-from" />
      </div>
      <div className="field">
        <label htmlFor="shift-to">{t('team.shifts.to')}</label>
        <input id="shift-to" type="time" value={draft.to} onChange={(e) => setDraft((d) => ({ ...d, to: e.target.value }))} data-testid="shift-to" />
        <p className="hint">{t('team.shifts.zoneHint', { zone })}</p>
      </div>
      {error !== null && (
        <p className="field-error" role="alert" data-testid="shift-error">
          {Object.values(v).join('; ') || (error instanceof Error && error.message === 'bad time' ? t('team.shifts.badTime') : '')}
        </p>
      )}
      {error !== null && Object.keys(v).length === 0 && !(error instanceof Error && error.message === 'bad time') && <ErrorMessage error={error} testId="shift-form-error" />}
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={busy} data-testid="shift-add">
          {t('team.shifts.addSubmit')}
        </button>
      </div>
    </form>
  );
}
