/**
 * Departments: the list (kind, SLA, members, heads) with a "new department" form (name, kind, SLA
 * minutes), and a department's page: name/kind/SLA, its heads and members, and the weekly schedule editor
 * (intervals per weekday, added and removed; holidays; the time zone, the tenant's by default). The
 * server's violations (`schedule.hours[2].to`) are shown next to the interval they name.
 */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { Me } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Link } from '../../router';
import { zoneLabel } from '../../time';
import { DEPARTMENT_KINDS, teamApi, type DepartmentKind, type TeamDepartment, type TeamUser, type WorkingHours, type WorkSchedule } from './api';
import { intervalOfField } from './logic';
import { allUsers, hasStoredDraft, NotAllowed, SettingsFrame, useAccess, useDepartments, useStoredDraft, useTeamI18n, violationOf, violations } from './common';

export function DepartmentsPage({ me }: { me: Me }) {
  const { t, tTeam } = useTeamI18n();
  const access = useAccess(me);
  const { departments, error, reload } = useDepartments();
  const [creating, setCreating] = useState(() => hasStoredDraft('department.new'));
  return (
    <SettingsFrame
      me={me}
      title={t('team.departments.title')}
      testId="departments-page"
      actions={
        access.admin && (
          <button type="button" className="button-primary" aria-expanded={creating} onClick={() => setCreating((v) => !v)} data-testid="department-new">
            {t('team.departments.new')}
          </button>
        )
      }
    >
      {creating && access.admin && <NewDepartmentForm onCreated={reload} />}
      {error !== null && <ErrorMessage error={error} onRetry={reload} testId="departments-error" />}
      <div className="table-wrap">
        <table className="table" data-testid="departments-table">
          <caption className="visually-hidden">{t('team.departments.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('team.departments.name')}</th>
              <th scope="col">{t('team.departments.kind')}</th>
              <th scope="col" className="num">
                {t('team.departments.sla')}
              </th>
              <th scope="col" className="num">
                {t('team.departments.members')}
              </th>
              <th scope="col">{t('team.departments.schedule')}</th>
            </tr>
          </thead>
          <tbody>
            {departments.map((d) => (
              <tr key={d.id} data-testid="department-row" data-id={d.id}>
                <td data-label={t('team.departments.name')}>
                  <Link to={`/settings/departments/${d.id}`}>{d.name}</Link>
                </td>
                <td data-label={t('team.departments.kind')}>{tTeam('kind', d.kind)}</td>
                <td data-label={t('team.departments.sla')} className="num">
                  {d.sla_first_response_minutes ? t('team.departments.minutes', { n: d.sla_first_response_minutes }) : t('team.departments.noSla')}
                </td>
                <td data-label={t('team.departments.members')} className="num">
                  {d.member_count}
                </td>
                <td data-label={t('team.departments.schedule')}>{d.schedule?.hours?.length ? t('team.schedule.intervals', { n: d.schedule.hours.length }) : t('team.schedule.always')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {departments.length === 0 && error === null && (
        <p className="muted" data-testid="departments-empty">
          {t('team.departments.empty')}
        </p>
      )}
    </SettingsFrame>
  );
}

interface DepartmentDraft {
  name: string;
  kind: DepartmentKind;
  sla: string;
}

function NewDepartmentForm({ onCreated }: { onCreated: () => void }) {
  const { t, tTeam } = useTeamI18n();
  const [draft, setDraft, clear] = useStoredDraft<DepartmentDraft>('department.new', { name: '', kind: 'sales', sla: '15' });
  const [error, setError] = useState<unknown>(null);
  const [local, setLocal] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const v = { ...violations(error), ...local };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const errs: Record<string, string> = {};
    if (!draft.name.trim()) errs.name = t('team.required');
    const sla = Number(draft.sla);
    if (!Number.isInteger(sla) || sla < 0 || sla > 10080) errs.sla_first_response_minutes = t('team.departments.badSla');
    setLocal(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      await teamApi.createDepartment({ name: draft.name.trim(), kind: draft.kind, sla_first_response_minutes: sla });
      clear();
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="panel form-grid" onSubmit={submit} noValidate data-testid="department-form" aria-labelledby="department-new-title">
      <h2 id="department-new-title">{t('team.departments.new')}</h2>
      <div className="field">
        <label htmlFor="department-name">{t('team.departments.name')}</label>
        <input id="department-name" value={draft.name} maxLength={100} onChange={(e) => setDraft((d) => ({ ...d, name: e.target.value }))} data-testid="department-name" />
        <p className="field-error" role={violationOf(v, 'name') ? 'alert' : undefined}>
          {violationOf(v, 'name') ?? ''}
        </p>
      </div>
      <div className="field">
        <label htmlFor="department-kind">{t('team.departments.kind')}</label>
        <select id="department-kind" value={draft.kind} onChange={(e) => setDraft((d) => ({ ...d, kind: e.target.value as DepartmentKind }))} data-testid="department-kind">
          {DEPARTMENT_KINDS.map((k) => (
            <option key={k} value={k}>
              {tTeam('kind', k)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="department-sla">{t('team.departments.slaLabel')}</label>
        <input id="department-sla" type="number" min={0} max={10080} value={draft.sla} onChange={(e) => setDraft((d) => ({ ...d, sla: e.target.value }))} data-testid="department-sla" />
        <p className="field-error" role={violationOf(v, 'sla_first_response_minutes') ? 'alert' : undefined}>
          {violationOf(v, 'sla_first_response_minutes') ?? ''}
        </p>
      </div>
      {error !== null && <ErrorMessage error={error} testId="department-form-error" />}
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={busy} data-testid="department-create">
          {t('team.create')}
        </button>
      </div>
    </form>
  );
}

export function DepartmentPage({ me, id }: { me: Me; id: string }) {
  const { t, tTeam } = useTeamI18n();
  const access = useAccess(me);
  const [dep, setDep] = useState<TeamDepartment | null>(null);
  const [members, setMembers] = useState<TeamUser[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    Promise.all([teamApi.getDepartment(id, ctl.signal), allUsers({ department: id }, ctl.signal)]).then(
      ([d, users]) => {
        setDep(d);
        setMembers(users);
        setError(null);
      },
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [id, n]);

  if (error !== null && !dep)
    return (
      <SettingsFrame me={me} title={t('team.departments.title')} testId="department-page">
        <ErrorMessage error={error} onRetry={() => setN((x) => x + 1)} testId="department-error" />
      </SettingsFrame>
    );
  if (!dep)
    return (
      <p className="page-status" role="status">
        {t('app.loading')}
      </p>
    );
  const canEdit = access.manages(dep.id);
  const heads = members.filter((u) => dep.head_user_ids.includes(u.id));
  return (
    <SettingsFrame me={me} title={dep.name} testId="department-page">
      <p>
        <Link to="/settings/departments">← {t('team.departments.back')}</Link>
      </p>
      <div className="grid grid-2">
        <DepartmentInfo dep={dep} canEdit={canEdit} canRename={access.admin} onSaved={setDep} />
        <section className="panel" aria-labelledby="members-title" data-testid="department-members">
          <h2 id="members-title">{t('team.departments.people')}</h2>
          <p>
            <strong>{t('team.departments.heads')}:</strong>{' '}
            <span data-testid="department-heads">{heads.length ? heads.map((h) => h.display_name || h.email).join(', ') : dep.head_user_ids.length ? dep.head_user_ids.length : '—'}</span>
          </p>
          <ul className="plain-list">
            {members.map((u) => (
              <li key={u.id} data-testid="department-member">
                {u.display_name || u.email} <span className="muted">{u.roles.map((r) => tTeam('role', r)).join(', ')}</span>
                {u.away && <span className="badge user-away"> {t('team.away.badge')}</span>}
              </li>
            ))}
          </ul>
          {members.length === 0 && <p className="muted">{t('team.departments.noMembers')}</p>}
        </section>
      </div>
      <ScheduleEditor dep={dep} canEdit={canEdit} tenantZone={me.time_zone} onSaved={setDep} />
      {!canEdit && <NotAllowed />}
    </SettingsFrame>
  );
}

function DepartmentInfo({ dep, canEdit, canRename, onSaved }: { dep: TeamDepartment; canEdit: boolean; canRename: boolean; onSaved: (d: TeamDepartment) => void }) {
  const { t, tTeam } = useTeamI18n();
  const [name, setName] = useState(dep.name);
  const [kind, setKind] = useState<DepartmentKind>(dep.kind === 'unspecified' ? 'other' : dep.kind);
  const [sla, setSla] = useState(String(dep.sla_first_response_minutes));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const v = violations(error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const body: { name?: string; kind?: DepartmentKind; sla_first_response_minutes?: number } = { sla_first_response_minutes: Number(sla) };
      if (canRename) Object.assign(body, { name: name.trim(), kind });
      onSaved(await teamApi.updateDepartment(dep.id, body));
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="panel form-grid" onSubmit={submit} noValidate data-testid="department-info" aria-labelledby="department-info-title">
      <h2 id="department-info-title">{t('team.departments.settings')}</h2>
      <div className="field">
        <label htmlFor="dep-name">{t('team.departments.name')}</label>
        <input id="dep-name" value={name} maxLength={100} disabled={!canRename} onChange={(e) => setName(e.target.value)} data-testid="dep-name" />
        <p className="field-error">{violationOf(v, 'name') ?? ''}</p>
      </div>
      <div className="field">
        <label htmlFor="dep-kind">{t('team.departments.kind')}</label>
        <select id="dep-kind" value={kind} disabled={!canRename} onChange={(e) => setKind(e.target.value as DepartmentKind)} data-testid="dep-kind">
          {DEPARTMENT_KINDS.map((k) => (
            <option key={k} value={k}>
              {tTeam('kind', k)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="dep-sla">{t('team.departments.slaLabel')}</label>
        <input id="dep-sla" type="number" min={0} max={10080} value={sla} disabled={!canEdit} onChange={(e) => setSla(e.target.value)} data-testid="dep-sla" />
        <p className="field-error">{violationOf(v, 'sla_first_response_minutes') ?? ''}</p>
      </div>
      {error !== null && <ErrorMessage error={error} testId="dep-info-error" />}
      {canEdit && (
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={busy} data-testid="dep-info-save">
            {t('team.save')}
          </button>
          {saved && (
            <span role="status" className="muted">
              {t('team.saved')}
            </span>
          )}
        </div>
      )}
    </form>
  );
}

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];

interface Interval extends WorkingHours {
  /** A stable key for the row (the index moves as rows are removed). */
  key: string;
}

let keySeq = 0;
const keyBase = Math.random().toString(36).slice(2, 8);
const nextKey = () => `${keyBase}-${++keySeq}`;

function toIntervals(s: WorkSchedule | undefined): Interval[] {
  return (s?.hours ?? []).map((h) => ({ ...h, key: nextKey() }));
}

interface ScheduleDraft {
  zone: string;
  intervals: Interval[];
  holidays: string[];
}

function ScheduleEditor({ dep, canEdit, tenantZone, onSaved }: { dep: TeamDepartment; canEdit: boolean; tenantZone: string; onSaved: (d: TeamDepartment) => void }) {
  const { t, tTeam } = useTeamI18n();
  const initial = useMemo<ScheduleDraft>(() => ({ zone: dep.schedule?.time_zone || '', intervals: toIntervals(dep.schedule), holidays: dep.schedule?.holidays ?? [] }), [dep]);
  const [draft, setDraft, clearDraft] = useStoredDraft<ScheduleDraft>(`schedule.${dep.id}`, initial);
  const [holiday, setHoliday] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);

  // Violations by the interval's position in what was sent (the rows' order).
  const byInterval = new Map<number, string[]>();
  const other: string[] = [];
  if (error) {
    for (const [field, message] of Object.entries(violations(error))) {
      const at = intervalOfField(field);
      if (at) byInterval.set(at.index, [...(byInterval.get(at.index) ?? []), message]);
      else other.push(`${field}: ${message}`);
    }
  }

  const update = (key: string, patch: Partial<WorkingHours>) => {
    setSaved(false);
    setDraft((d) => ({ ...d, intervals: d.intervals.map((i) => (i.key === key ? { ...i, ...patch } : i)) }));
  };
  const add = (weekday: number) => {
    setSaved(false);
    setDraft((d) => {
      const same = d.intervals.filter((i) => i.weekday === weekday);
      const last = same[same.length - 1];
      const from = last ? last.to : '09:00';
      const to = last ? (last.to < '18:00' ? '18:00' : '24:00') : '18:00';
      return { ...d, intervals: [...d.intervals, { key: nextKey(), weekday, from, to }] };
    });
  };
  const remove = (key: string) => {
    setSaved(false);
    setDraft((d) => ({ ...d, intervals: d.intervals.filter((i) => i.key !== key) }));
  };
  // What is sent: the rows grouped by weekday, in the order shown (the server names them by this index).
  const ordered = WEEKDAYS.flatMap((w) => draft.intervals.filter((i) => i.weekday === w));

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const schedule: WorkSchedule = { time_zone: draft.zone, hours: ordered.map(({ weekday, from, to }) => ({ weekday, from, to })), holidays: draft.holidays };
      const updated = await teamApi.setSchedule(dep.id, schedule);
      clearDraft({ zone: updated.schedule?.time_zone || '', intervals: toIntervals(updated.schedule), holidays: updated.schedule?.holidays ?? [] });
      onSaved(updated);
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const zones = useMemo(() => {
    let list: string[] = [];
    try {
      list = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
    } catch {
      list = [];
    }
    return [...new Set(['UTC', ...list, draft.zone].filter(Boolean))];
  }, [draft.zone]);

  return (
    <form className="panel schedule" onSubmit={save} noValidate data-testid="schedule-editor" aria-labelledby="schedule-title">
      <h2 id="schedule-title">{t('team.schedule.title')}</h2>
      <p className="hint">{t('team.schedule.hint')}</p>
      <div className="field">
        <label htmlFor="schedule-zone">{t('team.schedule.zone')}</label>
        <select id="schedule-zone" value={draft.zone} disabled={!canEdit} onChange={(e) => setDraft((d) => ({ ...d, zone: e.target.value }))} data-testid="schedule-zone">
          <option value="">{t('team.schedule.tenantZone', { zone: zoneLabel(tenantZone) })}</option>
          {zones.map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </div>
      <table className="table compact schedule-table">
        <caption className="visually-hidden">{t('team.schedule.title')}</caption>
        <tbody>
          {WEEKDAYS.map((w) => {
            const rows = ordered.map((i, index) => ({ i, index })).filter(({ i }) => i.weekday === w);
            return (
              <tr key={w} data-testid="schedule-day" data-weekday={w}>
                <th scope="row">{tTeam('weekday', w)}</th>
                <td>
                  {rows.length === 0 && <span className="muted">{t('team.schedule.dayOff')}</span>}
                  {rows.map(({ i, index }) => {
                    const problems = byInterval.get(index);
                    return (
                      <div key={i.key} className="interval" data-testid="schedule-interval" data-index={index} data-invalid={problems ? 'true' : undefined}>
                        <label>
                          <span className="visually-hidden">{t('team.schedule.from', { day: tTeam('weekday', w) })}</span>
                          <input
                            type="text"
                            inputMode="numeric"
                            pattern="[0-2][0-9]:[0-5][0-9]"
                            size={5}
                            value={i.from}
                            disabled={!canEdit}
                            aria-invalid={problems ? true : undefined}
                            onChange={(e) => update(i.key, { from: e.target.value })}
                            data-testid="interval-from"
                          />
                        </label>
                        <span aria-hidden="true">–</span>
                        <label>
                          <span className="visually-hidden">{t('team.schedule.to', { day: tTeam('weekday', w) })}</span>
                          <input
                            type="text"
                            inputMode="numeric"
                            pattern="[0-2][0-9]:[0-5][0-9]"
                            size={5}
                            value={i.to}
                            disabled={!canEdit}
                            aria-invalid={problems ? true : undefined}
                            onChange={(e) => update(i.key, { to: e.target.value })}
                            data-testid="interval-to"
                          />
                        </label>
                        {canEdit && (
                          <button type="button" className="button-secondary" onClick={() => remove(i.key)} aria-label={t('team.schedule.remove', { day: tTeam('weekday', w) })} data-testid="interval-remove">
                            ×
                          </button>
                        )}
                        {problems && (
                          <p className="field-error" role="alert" data-testid="interval-error">
                            {problems.join('; ')}
                          </p>
                        )}
                      </div>
                    );
                  })}
                  {canEdit && (
                    <button type="button" className="button-secondary" onClick={() => add(w)} data-testid="interval-add">
                      {t('team.schedule.add')}
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <h3>{t('team.schedule.holidays')}</h3>
      <ul className="inline-list holidays" data-testid="holidays">
        {draft.holidays.map((h) => (
          <li key={h} data-testid="holiday">
            {h}{' '}
            {canEdit && (
              <button type="button" className="button-secondary" aria-label={t('team.schedule.removeHoliday', { day: h })} onClick={() => setDraft((d) => ({ ...d, holidays: d.holidays.filter((x) => x !== h) }))}>
                ×
              </button>
            )}
          </li>
        ))}
        {draft.holidays.length === 0 && <li className="muted">{t('team.schedule.noHolidays')}</li>}
      </ul>
      {canEdit && (
        <div className="inline-fields">
          <label>
            <span className="visually-hidden">{t('team.schedule.holiday')}</span>
            <input type="date" value={holiday} onChange={(e) => setHoliday(e.target.value)} data-testid="holiday-input" />
          </label>
          <button
            type="button"
            className="button-secondary"
            disabled={!holiday}
            onClick={() => {
              setDraft((d) => ({ ...d, holidays: [...new Set([...d.holidays, holiday])].sort() }));
              setHoliday('');
            }}
            data-testid="holiday-add"
          >
            {t('team.schedule.addHoliday')}
          </button>
        </div>
      )}
      {other.length > 0 && (
        <p className="field-error" role="alert" data-testid="schedule-other-errors">
          {other.join('; ')}
        </p>
      )}
      {error !== null && byInterval.size === 0 && other.length === 0 && <ErrorMessage error={error} testId="schedule-error" />}
      {canEdit && (
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={busy} data-testid="schedule-save">
            {busy ? t('team.saving') : t('team.schedule.save')}
          </button>
          {saved && (
            <span role="status" className="muted" data-testid="schedule-saved">
              {t('team.saved')}
            </span>
          )}
        </div>
      )}
    </form>
  );
}
