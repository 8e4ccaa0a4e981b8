/**
 * Public forms (admins): the list with enable/disable; a new form; a form's name, field mapping (the
 * site's own field names for name, phone, e-mail and message, comma-separated) and thank-you URL; the
 * snippet to embed it in a site (a plain HTML form posting to the public endpoint).
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { Me } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { teamApi, type FieldMapping, type PublicForm } from './api';
import { embedSnippet, parseNames } from './logic';
import { CopyButton, hasStoredDraft, NotAllowed, SettingsFrame, useAccess, useStoredDraft, useTeamI18n, violationOf, violations } from './common';

const TARGETS = ['name', 'phone', 'email', 'message'] as const;

const listText = (names: string[] | undefined) => (names ?? []).join(', ');

export function FormsPage({ me }: { me: Me }) {
  const { t, formatDateTime } = useTeamI18n();
  const { admin } = useAccess(me);
  const [forms, setForms] = useState<PublicForm[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  const [creating, setCreating] = useState(() => hasStoredDraft('form.new'));
  const [open, setOpen] = useState<string | null>(null);
  useEffect(() => {
    if (!admin) return;
    const ctl = new AbortController();
    teamApi.listForms(ctl.signal).then(
      (f) => {
        setForms(f);
        setError(null);
      },
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [admin, n]);
  if (!admin)
    return (
      <SettingsFrame me={me} title={t('team.forms.title')} testId="forms-page">
        <NotAllowed />
      </SettingsFrame>
    );
  const replace = (f: PublicForm) => setForms((list) => (list ?? []).map((x) => (x.id === f.id ? f : x)));
  return (
    <SettingsFrame
      me={me}
      title={t('team.forms.title')}
      testId="forms-page"
      actions={
        <button type="button" className="button-primary" aria-expanded={creating} onClick={() => setCreating((v) => !v)} data-testid="form-new">
          {t('team.forms.new')}
        </button>
      }
    >
      {creating && (
        <NewForm
          onCreated={(f) => {
            setCreating(false);
            setForms((list) => [f, ...(list ?? [])]);
            setOpen(f.id);
          }}
        />
      )}
      {error !== null && <ErrorMessage error={error} onRetry={() => setN((x) => x + 1)} testId="forms-error" />}
      <ul className="plain-list forms-list" data-testid="forms-list">
        {(forms ?? []).map((f) => (
          <li key={f.id} data-testid="form-row" data-id={f.id} data-enabled={f.enabled ? 'true' : 'false'}>
            <FormRow form={f} open={open === f.id} onToggleOpen={() => setOpen((o) => (o === f.id ? null : f.id))} onChanged={replace} created={formatDateTime(f.created_at, 'short')} />
          </li>
        ))}
      </ul>
      {forms?.length === 0 && <p className="muted">{t('team.forms.empty')}</p>}
    </SettingsFrame>
  );
}

function FormRow({ form, open, created, onToggleOpen, onChanged }: { form: PublicForm; open: boolean; created: string; onToggleOpen: () => void; onChanged: (f: PublicForm) => void }) {
  const { t } = useTeamI18n();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      onChanged(await teamApi.updateForm(form.id, { enabled: !form.enabled }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="form-row">
      <div className="form-row-head">
        <strong data-testid="form-name">{form.name}</strong> <code className="muted">{form.id}</code>{' '}
        <span className={`badge ${form.enabled ? 'user-active' : 'user-inactive'}`} data-testid="form-state">
          {form.enabled ? t('team.forms.enabled') : t('team.forms.disabled')}
        </span>{' '}
        <span className="muted">{created}</span>
        <div className="row-actions">
          <button type="button" className="button-secondary" disabled={busy} onClick={toggle} data-testid={form.enabled ? 'form-disable' : 'form-enable'}>
            {form.enabled ? t('team.forms.disable') : t('team.forms.enable')}
          </button>
          <button type="button" className="button-secondary" aria-expanded={open} onClick={onToggleOpen} data-testid="form-edit">
            {t('team.forms.edit')}
          </button>
        </div>
      </div>
      {error !== null && <ErrorMessage error={error} testId="form-row-error" />}
      {open && <EditForm form={form} onSaved={onChanged} />}
    </div>
  );
}

interface FormDraft {
  name: string;
  thank_you_url: string;
  name_fields: string;
  phone_fields: string;
  email_fields: string;
  message_fields: string;
}

function mappingOf(d: FormDraft): FieldMapping {
  return { name: parseNames(d.name_fields), phone: parseNames(d.phone_fields), email: parseNames(d.email_fields), message: parseNames(d.message_fields) };
}

function FormFields({ draft, setDraft, v, idPrefix }: { draft: FormDraft; setDraft: (u: (d: FormDraft) => FormDraft) => void; v: Record<string, string>; idPrefix: string }) {
  const { t } = useTeamI18n();
  return (
    <>
      <div className="field">
        <label htmlFor={`${idPrefix}-name`}>{t('team.forms.name')}</label>
        <input id={`${idPrefix}-name`} value={draft.name} maxLength={100} onChange={(e) => setDraft((d) => ({ ...d, name: e.target.value }))} data-testid="form-input-name" />
        <p className="field-error">{violationOf(v, 'name') ?? ''}</p>
      </div>
      <div className="field">
        <label htmlFor={`${idPrefix}-thanks`}>{t('team.forms.thankYou')}</label>
        <input id={`${idPrefix}-thanks`} type="url" value={draft.thank_you_url} maxLength={2000} placeholder="https://" onChange={(e) => setDraft((d) => ({ ...d, thank_you_url: e.target.value }))} data-testid="form-input-thanks" />
        <p className="field-error" role={violationOf(v, 'thank_you_url') ? 'alert' : undefined}>
          {violationOf(v, 'thank_you_url') ?? ''}
        </p>
      </div>
      {TARGETS.map((target) => (
        <div className="field" key={target}>
          <label htmlFor={`${idPrefix}-map-${target}`}>{t(`team.forms.map.${target}`)}</label>
          <input
            id={`${idPrefix}-map-${target}`}
            value={draft[`${target}_fields`]}
            maxLength={2000}
            placeholder={t('team.forms.mapPlaceholder')}
            onChange={(e) => setDraft((d) => ({ ...d, [`${target}_fields`]: e.target.value }))}
            data-testid={`form-map-${target}`}
          />
          <p className="field-error">{violationOf(v, `field_mapping.${target}`) ?? ''}</p>
        </div>
      ))}
    </>
  );
}

function NewForm({ onCreated }: { onCreated: (f: PublicForm) => void }) {
  const { t } = useTeamI18n();
  const [draft, setDraft, clear] = useStoredDraft<FormDraft>('form.new', { name: '', thank_you_url: '', name_fields: '', phone_fields: '', email_fields: '', message_fields: '' });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const v = violations(error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!draft.name.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const f = await teamApi.createForm({ name: draft.name.trim(), field_mapping: mappingOf(draft), thank_you_url: draft.thank_you_url.trim() || undefined });
      clear();
      onCreated(f);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="panel form-grid" onSubmit={submit} noValidate data-testid="form-form" aria-labelledby="form-new-title">
      <h2 id="form-new-title">{t('team.forms.new')}</h2>
      <FormFields draft={draft} setDraft={setDraft} v={v} idPrefix="form-new" />
      {error !== null && <ErrorMessage error={error} testId="form-form-error" />}
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={busy || !draft.name.trim()} data-testid="form-create">
          {t('team.create')}
        </button>
      </div>
    </form>
  );
}

function EditForm({ form, onSaved }: { form: PublicForm; onSaved: (f: PublicForm) => void }) {
  const { t } = useTeamI18n();
  const [draft, setDraft, clear] = useStoredDraft<FormDraft>(`form.${form.id}`, {
    name: form.name,
    thank_you_url: form.thank_you_url ?? '',
    name_fields: listText(form.field_mapping?.name),
    phone_fields: listText(form.field_mapping?.phone),
    email_fields: listText(form.field_mapping?.email),
    message_fields: listText(form.field_mapping?.message),
  });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const v = violations(error);
  const snippet = embedSnippet(window.location.origin, form.id, form.field_mapping);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const f = await teamApi.updateForm(form.id, { name: draft.name.trim(), field_mapping: mappingOf(draft), thank_you_url: draft.thank_you_url.trim() });
      clear();
      onSaved(f);
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="form-edit">
      <form className="form-grid" onSubmit={submit} noValidate data-testid="form-edit-form" aria-label={t('team.forms.editTitle', { name: form.name })}>
        <FormFields draft={draft} setDraft={setDraft} v={v} idPrefix={`form-${form.id}`} />
        {error !== null && <ErrorMessage error={error} testId="form-edit-error" />}
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={busy || !draft.name.trim()} data-testid="form-save">
            {t('team.save')}
          </button>
          {saved && (
            <span role="status" className="muted">
              {t('team.saved')}
            </span>
          )}
        </div>
      </form>
      <h3>{t('team.forms.embed')}</h3>
      <p className="hint">{t('team.forms.embedHint')}</p>
      <pre className="snippet" data-testid="form-snippet">
        {snippet}
      </pre>
      <CopyButton text={snippet} testId="form-snippet-copy" />
    </div>
  );
}
