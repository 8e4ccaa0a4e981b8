/**
 * What the team settings pages share: the section's tabs, who may change what (admin: everything; head
 * of sales: the departments they head; others: read only), drafts of half-filled forms kept in
 * sessionStorage, field violations of a problem by field name, a confirm-twice button and enum labels.
 */
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError, type Me } from '../../api';
import { useI18n, type MessageKey } from '../../i18n';
import { Link, useLocation } from '../../router';
import { teamApi, type TeamDepartment, type TeamUser } from './api';

export interface Access {
  admin: boolean;
  head: boolean;
  /** The departments the caller heads (known once their team record is loaded). */
  headed: string[];
  /** May change things of this department (its schedule, SLA, members' shifts and away). */
  manages: (departmentId: string | undefined) => boolean;
  /** May see the team pages at all with write controls somewhere (admin or head). */
  manager: boolean;
}

/** The caller's rights in team settings (the server checks again and answers 403 otherwise). */
export function useAccess(me: Me): Access {
  const admin = me.scopes.includes('identity:admin');
  const head = me.roles.includes('head_of_sales');
  const [headed, setHeaded] = useState<string[]>(() => ((me as { headed_department_ids?: string[] }).headed_department_ids ?? []).slice());
  useEffect(() => {
    if (!head || admin || me.kind !== 'user') return;
    const ctl = new AbortController();
    teamApi.getUser(me.subject_id, ctl.signal).then(
      (u) => setHeaded(u.headed_department_ids ?? []),
      () => undefined,
    );
    return () => ctl.abort();
  }, [head, admin, me.subject_id, me.kind]);
  const manages = useCallback((id: string | undefined) => admin || (head && !!id && headed.includes(id)), [admin, head, headed]);
  return { admin, head, headed, manages, manager: admin || head };
}

const TABS: { to: string; label: MessageKey; testId: string; admin?: boolean }[] = [
  { to: '/settings', label: 'team.nav.general', testId: 'tab-settings-general' },
  { to: '/settings/team', label: 'team.nav.team', testId: 'tab-settings-team' },
  { to: '/settings/departments', label: 'team.nav.departments', testId: 'tab-settings-departments' },
  { to: '/settings/projects', label: 'team.nav.projects', testId: 'tab-settings-projects' },
  { to: '/settings/shifts', label: 'team.nav.shifts', testId: 'tab-settings-shifts' },
  { to: '/settings/api-keys', label: 'team.nav.apiKeys', testId: 'tab-settings-api-keys', admin: true },
  { to: '/settings/forms', label: 'team.nav.forms', testId: 'tab-settings-forms', admin: true },
  { to: '/settings/audit', label: 'team.nav.audit', testId: 'tab-settings-audit', admin: true },
  { to: '/settings/security', label: 'security.nav.security', testId: 'tab-settings-security', admin: true },
  { to: '/settings/sessions', label: 'security.nav.sessions', testId: 'tab-settings-sessions' },
  { to: '/settings/two-factor', label: 'security.nav.twoFactor', testId: 'tab-settings-two-factor' },
];

/** The tabs of the settings section (admin-only sections are hidden from others). */
export function SettingsTabs({ me }: { me: Me }) {
  const { t } = useI18n();
  const { path } = useLocation();
  const admin = me.scopes.includes('identity:admin');
  const head = me.roles.includes('head_of_sales');
  return (
    <nav className="tabs" aria-label={t('team.nav.label')}>
      {TABS.filter((tab) => !tab.admin || admin || (head && tab.to === '/settings/audit')).map((tab) => (
        <Link
          key={tab.to}
          to={tab.to}
          aria-current={path === tab.to || (tab.to !== '/settings' && path.startsWith(`${tab.to}/`)) ? 'page' : undefined}
          data-testid={tab.testId}
        >
          {t(tab.label)}
        </Link>
      ))}
    </nav>
  );
}

/** The page frame: tabs, the title and whatever goes at the right of it. */
export function SettingsFrame({ me, title, actions, children, testId }: { me: Me; title: string; actions?: ReactNode; children: ReactNode; testId: string }) {
  return (
    <section className="settings team-settings" data-testid={testId}>
      <SettingsTabs me={me} />
      <div className="page-head">
        <h1>{title}</h1>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function NotAllowed() {
  const { t } = useI18n();
  return (
    <p className="alert alert-info" role="status" data-testid="settings-not-allowed">
      {t('team.notAllowed')}
    </p>
  );
}

/**
 * A form's state kept as a draft in sessionStorage under `crm.draft.settings.<key>` (JSON), so a reload
 * does not lose what was typed; `clear()` forgets it and goes back to `initial`.
 */
export function useStoredDraft<T>(key: string, initial: T): [T, (update: T | ((v: T) => T)) => void, (next?: T) => void] {
  const storageKey = `crm.draft.settings.${key}`;
  const initialRef = useRef(initial);
  initialRef.current = initial;
  const [value, setValue] = useState<T>(() => {
    try {
      const raw = window.sessionStorage.getItem(storageKey);
      return raw ? { ...initial, ...(JSON.parse(raw) as T) } : initial;
    } catch {
      return initial;
    }
  });
  const set = useCallback(
    (update: T | ((v: T) => T)) => {
      setValue((prev) => {
        const next = typeof update === 'function' ? (update as (v: T) => T)(prev) : update;
        try {
          window.sessionStorage.setItem(storageKey, JSON.stringify(next));
        } catch {
          // Storage disabled: the draft lasts for this page only.
        }
        return next;
      });
    },
    [storageKey],
  );
  /** Forgets the draft: back to `next`, or to the current `initial`. */
  const clear = useCallback(
    (next?: T) => {
      try {
        window.sessionStorage.removeItem(storageKey);
      } catch {
        // nothing stored
      }
      setValue(next ?? initialRef.current);
    },
    [storageKey],
  );
  return [value, set, clear];
}

/** Whether a draft is stored under `crm.draft.settings.<key>`. */
export function hasStoredDraft(key: string): boolean {
  try {
    return window.sessionStorage.getItem(`crm.draft.settings.${key}`) !== null;
  } catch {
    return false;
  }
}

/** The field violations of a 400 answer (`errors[].field` → message); empty for anything else. */
export function violations(err: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (err instanceof ApiError && err.status === 400) for (const v of err.problem.errors ?? []) out[v.field] = out[v.field] ? `${out[v.field]}; ${v.message}` : v.message;
  return out;
}

/** The first violation whose field names `name` (as `name`, `body.name`, `x.name[0]`, …). */
export function violationOf(v: Record<string, string>, name: string): string | undefined {
  for (const [field, message] of Object.entries(v)) if (field === name || field.endsWith(`.${name}`) || field.startsWith(`${name}.`) || field.startsWith(`${name}[`)) return message;
  return undefined;
}

/** A button that asks "Sure?" on the first click and acts on the second. */
export function ConfirmButton({ label, confirmLabel, onConfirm, disabled, testId, className = 'button-secondary' }: { label: string; confirmLabel: string; onConfirm: () => void; disabled?: boolean; testId: string; className?: string }) {
  const { t } = useI18n();
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" className={className} disabled={disabled} onClick={() => setAsking(true)} data-testid={testId}>
        {label}
      </button>
    );
  return (
    <span className="confirm" role="group" aria-label={confirmLabel}>
      <span className="muted">{confirmLabel}</span>
      <button
        type="button"
        className="button-danger"
        disabled={disabled}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
        data-testid={`${testId}-confirm`}
      >
        {t('team.confirm.yes')}
      </button>
      <button type="button" className="button-secondary" onClick={() => setAsking(false)} data-testid={`${testId}-cancel`}>
        {t('team.confirm.no')}
      </button>
    </span>
  );
}

/** Labels of the settings enums (`team.role.*`, `team.kind.*`, …); an unknown value is shown as it is. */
export function useTeamI18n() {
  const i18n = useI18n();
  const tTeam = useCallback(
    (kind: 'role' | 'kind' | 'weekday' | 'target' | 'scope', value: string | number) => {
      const key = `team.${kind}.${value}` as MessageKey;
      const text = i18n.t(key);
      return text === key ? String(value) : text;
    },
    [i18n],
  );
  return { ...i18n, tTeam };
}

/** Departments once, for names and pickers. */
export function useDepartments(): { departments: TeamDepartment[]; error: unknown; reload: () => void; byId: Map<string, TeamDepartment> } {
  const [departments, setDepartments] = useState<TeamDepartment[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    teamApi.listDepartments(ctl.signal).then(
      (d) => {
        setDepartments(d);
        setError(null);
      },
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [n]);
  const byId = new Map(departments.map((d) => [d.id, d]));
  return { departments, error, reload: () => setN((x) => x + 1), byId };
}

/** All users of the tenant (every page of the list), active and invited (and inactive when asked). */
export async function allUsers(opts: { department?: string; includeInactive?: boolean } = {}, signal?: AbortSignal): Promise<TeamUser[]> {
  const out: TeamUser[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 20; i++) {
    const page = await teamApi.listUsers({ ...opts, cursor, limit: 200 }, signal);
    out.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out;
}

/** A checkbox list of choices (roles, departments, scopes) inside a fieldset with a legend. */
export function Checkboxes({ legend, options, selected, onChange, testId, disabled }: { legend: string; options: { value: string; label: string }[]; selected: string[]; onChange: (v: string[]) => void; testId: string; disabled?: boolean }) {
  return (
    <fieldset className="checkboxes" data-testid={testId} disabled={disabled}>
      <legend>{legend}</legend>
      {options.map((o) => (
        <label key={o.value} className="check">
          <input
            type="checkbox"
            value={o.value}
            checked={selected.includes(o.value)}
            onChange={(e) => onChange(e.target.checked ? [...selected, o.value] : selected.filter((v) => v !== o.value))}
          />
          {o.label}
        </label>
      ))}
    </fieldset>
  );
}

/** A copy-to-clipboard button for `text` (says "Copied" for a moment). */
export function CopyButton({ text, testId }: { text: string; testId: string }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="button-secondary"
      data-testid={testId}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setCopied(true);
          setTimeout(() => setCopied(false), 2000);
        } catch {
          setCopied(false);
        }
      }}
    >
      {copied ? t('team.copied') : t('team.copy')}
    </button>
  );
}
