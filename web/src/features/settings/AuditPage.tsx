/** The tenant's audit log (newest first), filtered by target kind and actor (kept in the URL), cursor pages. */
import { useCallback, useEffect, useState } from 'react';
import type { Me } from '../../api';
import { navigate, useLocation } from '../../router';
import { ListFoot, usePaged } from '../contacts/common';
import { AUDIT_TARGETS, teamApi, type AuditEntry, type AuditTarget, type TeamUser } from './api';
import { allUsers, SettingsFrame, useTeamI18n } from './common';
import { detailsText } from './logic';

export function AuditPage({ me }: { me: Me }) {
  const { t, tTeam, formatDateTime } = useTeamI18n();
  const location = useLocation();
  const targetParam = location.search.get('target') ?? '';
  const target = (AUDIT_TARGETS as readonly string[]).includes(targetParam) ? (targetParam as AuditTarget) : '';
  const actor = location.search.get('actor') ?? '';
  const [users, setUsers] = useState<TeamUser[]>([]);
  useEffect(() => {
    const ctl = new AbortController();
    allUsers({ includeInactive: true }, ctl.signal).then(setUsers, () => undefined);
    return () => ctl.abort();
  }, []);
  const names = new Map(users.map((u) => [u.id, u.display_name || u.email]));
  const fetchPage = useCallback((cursor: string | null, signal?: AbortSignal) => teamApi.audit({ targetKind: target, actor, cursor, limit: 50 }, signal), [target, actor]);
  const list = usePaged(fetchPage, `${target}|${actor}`);
  const set = (k: string, v: string) => {
    const s = new URLSearchParams(location.query);
    if (v) s.set(k, v);
    else s.delete(k);
    navigate(`/settings/audit${s.size ? `?${s}` : ''}`, { replace: true });
  };
  const actorName = (e: AuditEntry) => (e.actor_kind === 'user' ? (names.get(e.actor_id) ?? e.actor_id) : `${tTeam('target', e.actor_kind)} ${e.actor_id}`);
  return (
    <SettingsFrame me={me} title={t('team.audit.title')} testId="audit-page">
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label className="filter-field">
          <span>{t('team.audit.target')}</span>
          <select value={target} onChange={(e) => set('target', e.target.value)} data-testid="audit-target">
            <option value="">{t('journal.all')}</option>
            {AUDIT_TARGETS.map((k) => (
              <option key={k} value={k}>
                {tTeam('target', k)}
              </option>
            ))}
          </select>
        </label>
        <label className="filter-field">
          <span>{t('team.audit.actor')}</span>
          <select value={actor} onChange={(e) => set('actor', e.target.value)} data-testid="audit-actor">
            <option value="">{t('journal.all')}</option>
            {users.map((u) => (
              <option key={u.id} value={u.id}>
                {u.display_name || u.email}
              </option>
            ))}
          </select>
        </label>
      </form>
      <div className="table-wrap" aria-busy={list.status === 'loading'}>
        <table className="table" data-testid="audit-table">
          <caption className="visually-hidden">{t('team.audit.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('team.audit.at')}</th>
              <th scope="col">{t('team.audit.actor')}</th>
              <th scope="col">{t('team.audit.action')}</th>
              <th scope="col">{t('team.audit.target')}</th>
              <th scope="col">{t('team.audit.details')}</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((e) => (
              <tr key={e.id} data-testid="audit-row" data-action={e.action} data-target-kind={e.target_kind}>
                <td data-label={t('team.audit.at')} className="nowrap">
                  <time dateTime={e.at}>{formatDateTime(e.at, 'short')}</time>
                </td>
                <td data-label={t('team.audit.actor')}>{actorName(e)}</td>
                <td data-label={t('team.audit.action')}>
                  <code>{e.action}</code>
                </td>
                <td data-label={t('team.audit.target')}>
                  {tTeam('target', e.target_kind)} {e.target_kind === 'user' ? (names.get(e.target_id) ?? e.target_id) : <code className="muted">{e.target_id}</code>}
                </td>
                <td data-label={t('team.audit.details')} className="break audit-details">
                  {detailsText(e)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ListFoot list={list} empty={t('team.audit.empty')} testId="audit" />
    </SettingsFrame>
  );
}
