/**
 * The team: users with search, a department filter and "show inactive" (kept in the URL); inviting a user
 * (roles, departments, headed departments) shows the invite link once with a copy button; a user's roles
 * and departments are edited in place; deactivation and reactivation ask for confirmation; "away" with an
 * optional "until" (the tenant's wall clock). A head of sales manages the members of the departments they
 * head; the server refuses the rest (403) and its message is shown.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { Me } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { navigate, useLocation } from '../../router';
import { ListFoot, SearchBox, usePaged } from '../contacts/common';
import { ROLES, teamApi, type RoleName, type TeamDepartment, type TeamUser } from './api';
import { sessionsApi } from '../security/sessions-api';
import { Checkboxes, ConfirmButton, CopyButton, hasStoredDraft, SettingsFrame, useAccess, useDepartments, useStoredDraft, useTeamI18n, violationOf, violations, type Access } from './common';
import { isoToWall, wallToIso } from './zone';

export function TeamPage({ me }: { me: Me }) {
  const { t } = useTeamI18n();
  const access = useAccess(me);
  const location = useLocation();
  const q = (location.search.get('q') ?? '').slice(0, 200);
  const department = location.search.get('department') ?? '';
  const inactive = location.search.get('inactive') === '1';
  const { departments, byId } = useDepartments();
  const [inviting, setInviting] = useState(() => hasStoredDraft('invite'));

  const setQuery = useCallback(
    (patch: Record<string, string>) => {
      const s = new URLSearchParams(location.query);
      for (const [k, v] of Object.entries(patch)) if (v) s.set(k, v);
      else s.delete(k);
      const qs = s.toString();
      navigate(`/settings/team${qs ? `?${qs}` : ''}`, { replace: true });
    },
    [location.query],
  );
  const fetchPage = useCallback(
    (cursor: string | null, signal?: AbortSignal) => teamApi.listUsers({ query: q, department, includeInactive: inactive, cursor }, signal),
    [q, department, inactive],
  );
  const list = usePaged(fetchPage, `${q}|${department}|${inactive}`);
  const replace = (u: TeamUser) => list.setItems((items) => items.map((i) => (i.id === u.id ? u : i)));

  return (
    <SettingsFrame
      me={me}
      title={t('team.users.title')}
      testId="team-page"
      actions={
        access.manager && (
          <button type="button" className="button-primary" aria-expanded={inviting} onClick={() => setInviting((v) => !v)} data-testid="invite-open">
            {t('team.invite.open')}
          </button>
        )
      }
    >
      {inviting && <InviteForm access={access} departments={departments} onInvited={() => list.reload()} />}
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <SearchBox value={q} onSearch={(v) => setQuery({ q: v })} label={t('journal.search')} placeholder={t('team.users.searchPlaceholder')} testId="team-search" />
        <label className="filter-field">
          <span>{t('team.users.department')}</span>
          <select value={department} onChange={(e) => setQuery({ department: e.target.value })} data-testid="team-department-filter">
            <option value="">{t('journal.all')}</option>
            {departments.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={inactive} onChange={(e) => setQuery({ inactive: e.target.checked ? '1' : '' })} data-testid="team-show-inactive" />
          {t('team.users.showInactive')}
        </label>
      </form>
      <div className="table-wrap" aria-busy={list.status === 'loading'}>
        <table className="table" data-testid="team-table">
          <caption className="visually-hidden">{t('team.users.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('team.users.name')}</th>
              <th scope="col">{t('team.users.roles')}</th>
              <th scope="col">{t('team.users.departments')}</th>
              <th scope="col">{t('team.users.status')}</th>
              <th scope="col">{t('team.users.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((u) => (
              <UserRow key={u.id} user={u} me={me} access={access} departments={departments} byId={byId} onChanged={replace} />
            ))}
          </tbody>
        </table>
      </div>
      <ListFoot list={list} empty={t('team.users.empty')} testId="team" />
    </SettingsFrame>
  );
}

function UserRow({ user, me, access, departments, byId, onChanged }: { user: TeamUser; me: Me; access: Access; departments: TeamDepartment[]; byId: Map<string, TeamDepartment>; onChanged: (u: TeamUser) => void }) {
  const { t, tTeam, formatDateTime, timeZone } = useTeamI18n();
  const [editing, setEditing] = useState(false);
  const [awayOpen, setAwayOpen] = useState(false);
  const [until, setUntil] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const canManage = access.admin || user.department_ids.some((d) => access.manages(d));
  const names = (ids: string[]) => ids.map((id) => byId.get(id)?.name ?? id).join(', ');

  const act = async (call: () => Promise<TeamUser>) => {
    setBusy(true);
    setError(null);
    try {
      onChanged(await call());
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const status = !user.active && user.invited ? 'invited' : user.active ? 'active' : 'inactive';
  return (
    <>
      <tr data-testid="team-row" data-id={user.id} data-email={user.email} data-status={status} data-away={user.away ? 'true' : 'false'}>
        <td data-label={t('team.users.name')}>
          <strong>{user.display_name || user.email}</strong>
          <div className="muted break">{user.email}</div>
        </td>
        <td data-label={t('team.users.roles')}>{user.roles.map((r) => tTeam('role', r)).join(', ')}</td>
        <td data-label={t('team.users.departments')}>
          {names(user.department_ids)}
          {user.headed_department_ids.length > 0 && (
            <div className="muted">
              {t('team.users.heads')}: {names(user.headed_department_ids)}
            </div>
          )}
        </td>
        <td data-label={t('team.users.status')}>
          <span className={`badge user-${status}`} data-testid="user-status">
            {t(`team.status.${status}`)}
          </span>{' '}
          {user.away && (
            <span className="badge user-away" data-testid="user-away">
              {user.away_until ? t('team.away.until', { at: formatDateTime(user.away_until, 'short') }) : t('team.away.badge')}
            </span>
          )}
        </td>
        <td data-label={t('team.users.actions')}>
          {canManage ? (
            <div className="row-actions">
              {access.admin && (
                <button type="button" className="button-secondary" aria-expanded={editing} onClick={() => setEditing((v) => !v)} data-testid="user-edit">
                  {t('team.users.edit')}
                </button>
              )}
              {user.active &&
                (user.away ? (
                  <button type="button" className="button-secondary" disabled={busy} onClick={() => act(() => teamApi.setAway(user.id, false))} data-testid="user-back">
                    {t('team.away.back')}
                  </button>
                ) : (
                  <button type="button" className="button-secondary" aria-expanded={awayOpen} onClick={() => setAwayOpen((v) => !v)} data-testid="user-away-open">
                    {t('team.away.set')}
                  </button>
                ))}
              {access.admin && user.id !== me.subject_id && !(user.invited && !user.active) && (
                <ConfirmButton
                  label={user.active ? t('team.users.deactivate') : t('team.users.reactivate')}
                  confirmLabel={user.active ? t('team.users.deactivateConfirm', { name: user.display_name || user.email }) : t('team.users.reactivateConfirm', { name: user.display_name || user.email })}
                  disabled={busy}
                  onConfirm={() => act(() => teamApi.setActive(user.id, !user.active))}
                  testId={user.active ? 'user-deactivate' : 'user-reactivate'}
                />
              )}
              {access.admin && user.active && user.id !== me.subject_id && (
                <ConfirmButton
                  label={t('security.sessions.adminEnd')}
                  confirmLabel={t('security.sessions.adminEndConfirm', { name: user.display_name || user.email })}
                  disabled={busy}
                  onConfirm={() =>
                    act(async () => {
                      await sessionsApi.endUser(user.id);
                      return user;
                    })
                  }
                  testId="user-end-sessions"
                />
              )}
            </div>
          ) : (
            <span className="muted">—</span>
          )}
          {awayOpen && !user.away && (
            <form
              className="inline-fields away-form"
              onSubmit={async (e) => {
                e.preventDefault();
                const iso = until ? wallToIso(until, timeZone) : '';
                if (await act(() => teamApi.setAway(user.id, true, iso || undefined))) {
                  setAwayOpen(false);
                  setUntil('');
                }
              }}
            >
              <label className="field-inline">
                <span>{t('team.away.untilLabel')}</span>
                <input type="datetime-local" value={until} min={isoToWall(new Date().toISOString(), timeZone)} onChange={(e) => setUntil(e.target.value)} data-testid="user-away-until" />
              </label>
              <button type="submit" className="button-primary" disabled={busy} data-testid="user-away-save">
                {t('team.away.save')}
              </button>
            </form>
          )}
          {error !== null && <ErrorMessage error={error} testId="user-error" />}
        </td>
      </tr>
      {editing && (
        <tr className="edit-row">
          <td colSpan={5}>
            <EditUser
              user={user}
              departments={departments}
              onSaved={(u) => {
                onChanged(u);
                setEditing(false);
              }}
            />
          </td>
        </tr>
      )}
    </>
  );
}

function EditUser({ user, departments, onSaved }: { user: TeamUser; departments: TeamDepartment[]; onSaved: (u: TeamUser) => void }) {
  const { t, tTeam } = useTeamI18n();
  const [name, setName] = useState(user.display_name);
  const [roles, setRoles] = useState<string[]>(user.roles);
  const [deps, setDeps] = useState<string[]>(user.department_ids);
  const [headed, setHeaded] = useState<string[]>(user.headed_department_ids);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const depOptions = departments.map((d) => ({ value: d.id, label: d.name }));
  const v = violations(error);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSaved(await teamApi.updateUser(user.id, { display_name: name.trim(), roles: roles as RoleName[], department_ids: deps, headed_department_ids: headed }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form-grid" onSubmit={submit} noValidate data-testid="user-edit-form" aria-label={t('team.users.editTitle', { name: user.display_name || user.email })}>
      <div className="field">
        <label htmlFor={`edit-name-${user.id}`}>{t('team.users.displayName')}</label>
        <input id={`edit-name-${user.id}`} value={name} maxLength={200} onChange={(e) => setName(e.target.value)} data-testid="user-edit-name" />
        <p className="field-error">{violationOf(v, 'display_name') ?? ''}</p>
      </div>
      <Checkboxes legend={t('team.users.roles')} options={ROLES.map((r) => ({ value: r, label: tTeam('role', r) }))} selected={roles} onChange={setRoles} testId="user-edit-roles" />
      <Checkboxes legend={t('team.users.departments')} options={depOptions} selected={deps} onChange={setDeps} testId="user-edit-departments" />
      <Checkboxes legend={t('team.users.headed')} options={depOptions} selected={headed} onChange={setHeaded} testId="user-edit-headed" />
      {error !== null && <ErrorMessage error={error} testId="user-edit-error" />}
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={busy || roles.length === 0} data-testid="user-edit-save">
          {t('team.save')}
        </button>
      </div>
    </form>
  );
}

interface InviteDraft {
  email: string;
  display_name: string;
  roles: string[];
  department_ids: string[];
  headed_department_ids: string[];
}

const EMPTY_INVITE: InviteDraft = { email: '', display_name: '', roles: ['seller'], department_ids: [], headed_department_ids: [] };

function InviteForm({ access, departments, onInvited }: { access: Access; departments: TeamDepartment[]; onInvited: () => void }) {
  const { t, tTeam } = useTeamI18n();
  const [draft, setDraft, clearDraft] = useStoredDraft<InviteDraft>('invite', EMPTY_INVITE);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [link, setLink] = useState<{ url: string; email: string; expires: string } | null>(null);
  const [local, setLocal] = useState<Record<string, string>>({});
  // A head invites sellers into the departments they head only.
  const roleOptions = (access.admin ? ROLES : (['seller'] as const)).map((r) => ({ value: r, label: tTeam('role', r) }));
  const depOptions = departments.filter((d) => access.manages(d.id)).map((d) => ({ value: d.id, label: d.name }));
  const v = { ...violations(error), ...local };
  useEffect(() => {
    if (!access.admin) setDraft((d) => (d.roles.join() === 'seller' ? d : { ...d, roles: ['seller'], headed_department_ids: [] }));
  }, [access.admin, setDraft]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const errs: Record<string, string> = {};
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(draft.email.trim())) errs.email = t('team.invite.badEmail');
    if (!draft.display_name.trim()) errs.display_name = t('team.required');
    if (draft.roles.length === 0) errs.roles = t('team.invite.needRole');
    setLocal(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      const res = await teamApi.invite({
        email: draft.email.trim(),
        display_name: draft.display_name.trim(),
        roles: draft.roles as RoleName[],
        department_ids: draft.department_ids,
        headed_department_ids: draft.headed_department_ids,
      });
      setLink({ url: `${window.location.origin}${res.invite_path || `/invite/${encodeURIComponent(res.invite_token)}`}`, email: draft.email.trim(), expires: res.invite_expires_at });
      clearDraft();
      onInvited();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="panel" data-testid="invite-panel">
      {link && (
        <div className="secret-box" role="status" data-testid="invite-link-box">
          <p>{t('team.invite.linkOnce', { email: link.email })}</p>
          <div className="inline-fields">
            <input readOnly value={link.url} aria-label={t('team.invite.link')} data-testid="invite-link" onFocus={(e) => e.target.select()} />
            <CopyButton text={link.url} testId="invite-copy" />
          </div>
        </div>
      )}
      <form className="form-grid" onSubmit={submit} noValidate data-testid="invite-form" aria-labelledby="invite-title">
        <h2 id="invite-title">{t('team.invite.title')}</h2>
        <div className="field">
          <label htmlFor="invite-email">{t('team.invite.email')}</label>
          <input id="invite-email" type="email" value={draft.email} maxLength={320} aria-invalid={violationOf(v, 'email') ? true : undefined} onChange={(e) => setDraft((d) => ({ ...d, email: e.target.value }))} data-testid="invite-email" />
          <p className="field-error" role={violationOf(v, 'email') ? 'alert' : undefined} data-testid="invite-email-error">
            {violationOf(v, 'email') ?? ''}
          </p>
        </div>
        <div className="field">
          <label htmlFor="invite-name">{t('team.users.displayName')}</label>
          <input id="invite-name" value={draft.display_name} maxLength={200} onChange={(e) => setDraft((d) => ({ ...d, display_name: e.target.value }))} data-testid="invite-name" />
          <p className="field-error" role={violationOf(v, 'display_name') ? 'alert' : undefined} data-testid="invite-name-error">
            {violationOf(v, 'display_name') ?? ''}
          </p>
        </div>
        <div>
          <Checkboxes legend={t('team.users.roles')} options={roleOptions} selected={draft.roles} onChange={(roles) => setDraft((d) => ({ ...d, roles }))} testId="invite-roles" />
          <p className="field-error">{violationOf(v, 'roles') ?? ''}</p>
        </div>
        <div>
          <Checkboxes legend={t('team.users.departments')} options={depOptions} selected={draft.department_ids} onChange={(department_ids) => setDraft((d) => ({ ...d, department_ids }))} testId="invite-departments" />
          <p className="field-error">{violationOf(v, 'department_ids') ?? ''}</p>
        </div>
        {access.admin && (
          <div>
            <Checkboxes legend={t('team.users.headed')} options={depOptions} selected={draft.headed_department_ids} onChange={(headed_department_ids) => setDraft((d) => ({ ...d, headed_department_ids }))} testId="invite-headed" />
            <p className="field-error">{violationOf(v, 'headed_department_ids') ?? ''}</p>
          </div>
        )}
        {error !== null && <ErrorMessage error={error} testId="invite-error" />}
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={busy} data-testid="invite-submit">
            {busy ? t('team.saving') : t('team.invite.submit')}
          </button>
        </div>
      </form>
    </div>
  );
}
