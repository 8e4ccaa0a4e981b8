/** Projects (a tenant's product lines or brands): the list, "new project" (name, code), rename, archive. */
import { useEffect, useState, type FormEvent } from 'react';
import type { Me } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { teamApi, type Project } from './api';
import { ConfirmButton, hasStoredDraft, SettingsFrame, useAccess, useStoredDraft, useTeamI18n, violationOf, violations } from './common';

export function ProjectsPage({ me }: { me: Me }) {
  const { t, formatDateTime } = useTeamI18n();
  const { admin } = useAccess(me);
  const [archived, setArchived] = useState(false);
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  const [creating, setCreating] = useState(() => hasStoredDraft('project.new'));
  useEffect(() => {
    const ctl = new AbortController();
    teamApi.listProjects(archived, ctl.signal).then(
      (p) => {
        setProjects(p);
        setError(null);
      },
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [archived, n]);
  const replace = (p: Project) => setProjects((list) => (list ?? []).map((x) => (x.id === p.id ? p : x)).filter((x) => archived || !x.archived));

  return (
    <SettingsFrame
      me={me}
      title={t('team.projects.title')}
      testId="projects-page"
      actions={
        admin && (
          <button type="button" className="button-primary" aria-expanded={creating} onClick={() => setCreating((v) => !v)} data-testid="project-new">
            {t('team.projects.new')}
          </button>
        )
      }
    >
      {creating && admin && <NewProjectForm onCreated={() => setN((x) => x + 1)} />}
      <label className="check">
        <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} data-testid="projects-show-archived" />
        {t('team.projects.showArchived')}
      </label>
      {error !== null && <ErrorMessage error={error} onRetry={() => setN((x) => x + 1)} testId="projects-error" />}
      <div className="table-wrap">
        <table className="table" data-testid="projects-table">
          <caption className="visually-hidden">{t('team.projects.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('team.projects.name')}</th>
              <th scope="col">{t('team.projects.code')}</th>
              <th scope="col">{t('team.projects.created')}</th>
              <th scope="col">{t('team.users.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {(projects ?? []).map((p) => (
              <ProjectRow key={p.id} project={p} admin={admin} onChanged={replace} created={formatDateTime(p.created_at, 'short')} />
            ))}
          </tbody>
        </table>
      </div>
      {projects?.length === 0 && (
        <p className="muted" data-testid="projects-empty">
          {t('team.projects.empty')}
        </p>
      )}
    </SettingsFrame>
  );
}

function ProjectRow({ project, admin, created, onChanged }: { project: Project; admin: boolean; created: string; onChanged: (p: Project) => void }) {
  const { t } = useTeamI18n();
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(project.name);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const act = async (body: { name?: string; archived?: boolean }) => {
    setBusy(true);
    setError(null);
    try {
      onChanged(await teamApi.updateProject(project.id, body));
      setRenaming(false);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr data-testid="project-row" data-code={project.code} data-archived={project.archived ? 'true' : 'false'}>
      <td data-label={t('team.projects.name')}>
        {renaming ? (
          <form
            className="inline-fields"
            onSubmit={(e: FormEvent) => {
              e.preventDefault();
              if (name.trim()) void act({ name: name.trim() });
            }}
          >
            <label>
              <span className="visually-hidden">{t('team.projects.name')}</span>
              <input value={name} maxLength={100} onChange={(e) => setName(e.target.value)} data-testid="project-rename-input" />
            </label>
            <button type="submit" className="button-primary" disabled={busy || !name.trim()} data-testid="project-rename-save">
              {t('team.save')}
            </button>
          </form>
        ) : (
          <>
            {project.name} {project.archived && <span className="badge">{t('team.projects.archived')}</span>}
          </>
        )}
        {error !== null && <ErrorMessage error={error} testId="project-error" />}
      </td>
      <td data-label={t('team.projects.code')}>
        <code>{project.code}</code>
      </td>
      <td data-label={t('team.projects.created')} className="nowrap">
        {created}
      </td>
      <td data-label={t('team.users.actions')}>
        {admin ? (
          <div className="row-actions">
            <button type="button" className="button-secondary" onClick={() => setRenaming((v) => !v)} aria-expanded={renaming} data-testid="project-rename">
              {t('team.projects.rename')}
            </button>
            {project.archived ? (
              <button type="button" className="button-secondary" disabled={busy} onClick={() => act({ archived: false })} data-testid="project-unarchive">
                {t('team.projects.unarchive')}
              </button>
            ) : (
              <ConfirmButton label={t('team.projects.archive')} confirmLabel={t('team.projects.archiveConfirm', { name: project.name })} disabled={busy} onConfirm={() => act({ archived: true })} testId="project-archive" />
            )}
          </div>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
}

function NewProjectForm({ onCreated }: { onCreated: () => void }) {
  const { t } = useTeamI18n();
  const [draft, setDraft, clear] = useStoredDraft('project.new', { name: '', code: '' });
  const [error, setError] = useState<unknown>(null);
  const [local, setLocal] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const v = { ...violations(error), ...local };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const errs: Record<string, string> = {};
    if (!draft.name.trim()) errs.name = t('team.required');
    if (!/^[a-z0-9-]{1,32}$/.test(draft.code.trim())) errs.code = t('team.projects.badCode');
    setLocal(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      await teamApi.createProject({ name: draft.name.trim(), code: draft.code.trim() });
      clear();
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="panel form-grid" onSubmit={submit} noValidate data-testid="project-form" aria-labelledby="project-new-title">
      <h2 id="project-new-title">{t('team.projects.new')}</h2>
      <div className="field">
        <label htmlFor="project-name">{t('team.projects.name')}</label>
        <input id="project-name" value={draft.name} maxLength={100} onChange={(e) => setDraft((d) => ({ ...d, name: e.target.value }))} data-testid="project-name" />
        <p className="field-error" role={violationOf(v, 'name') ? 'alert' : undefined}>
          {violationOf(v, 'name') ?? ''}
        </p>
      </div>
      <div className="field">
        <label htmlFor="project-code">{t('team.projects.code')}</label>
        <input id="project-code" value={draft.code} maxLength={32} onChange={(e) => setDraft((d) => ({ ...d, code: e.target.value }))} data-testid="project-code" />
        <p className="hint">{t('team.projects.codeHint')}</p>
        <p className="field-error" role={violationOf(v, 'code') ? 'alert' : undefined} data-testid="project-code-error">
          {violationOf(v, 'code') ?? ''}
        </p>
      </div>
      {error !== null && <ErrorMessage error={error} testId="project-form-error" />}
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={busy} data-testid="project-create">
          {t('team.create')}
        </button>
      </div>
    </form>
  );
}
