/**
 * Routing rules (`/settings/routing`, for `routing:write`: admins and heads of sales): the published
 * version and the drafts; an editor of the rule table (conditions, department, strategy, owner first,
 * overflow; reorder, disable, remove) with the problems listed per rule; beside it the simulator — a
 * sample request sent to `POST /v1/routing/simulate` with the unsaved rules as they are edited
 * (debounced), showing the department, rule, assignee and the trace. Save draft, then publish with the
 * published version the page saw (someone else publishing first is a 412; problems a 409).
 * The unsaved rules are a draft in sessionStorage: a reload keeps them.
 */
import { useEffect, useMemo, useState } from 'react';
import { ApiError, CHANNELS, type Me } from '../../api';
import { errorText } from '../../components/ErrorMessage';
import { MultiSelect } from '../../components/MultiSelect';
import { useI18n } from '../../i18n';
import { departmentName, STRATEGIES, userName, workApi, workProblem, type RouteConditions, type RouteDecision, type RouteInput, type RoutingProblem, type RoutingRule, type RoutingVersion, type Strategy } from './api';
import { useDebounced, useDirectory, useDraft } from './hooks';
import { localInputToIso } from './time-input';

const DIALED_KINDS = ['advertising', 'support', 'sales', 'none'] as const;
const CLIENT_STATES = ['none', 'not_client', 'potential', 'active', 'former'] as const;
const OWNER = ['any', 'has_owner', 'no_owner'] as const;
const HOURS = ['any', 'open', 'closed'] as const;
const SIMULATE_DEBOUNCE_MS = 400;

interface Editor {
  /** The version the rules were loaded from (0: a new table). */
  base: number;
  rules: RoutingRule[];
  fallback_department_id: string;
  fallback_strategy: Strategy;
  comment: string;
  /** The draft saved from exactly these rules (publishable), 0 when edited since. */
  saved: number;
}

const EMPTY: Editor = { base: 0, rules: [], fallback_department_id: '', fallback_strategy: 'queue', comment: '', saved: 0 };

function fromVersion(v: RoutingVersion): Editor {
  return {
    base: v.version,
    rules: (v.rules ?? []).map((r) => ({ ...r, when: { ...r.when }, overflow_department_id: r.overflow_department_id ?? '', owner_first: !!r.owner_first, disabled: !!r.disabled })),
    fallback_department_id: v.fallback_department_id ?? '',
    fallback_strategy: (v.fallback_strategy as Strategy) || 'queue',
    comment: '',
    saved: v.status === 'draft' ? v.version : 0,
  };
}

function newRuleId(rules: RoutingRule[]): string {
  for (let n = rules.length + 1; ; n++) {
    const id = `rule-${n}`;
    if (!rules.some((r) => r.id === id)) return id;
  }
}

/** The rules as the API takes them (lists without blanks or repeats, no overflow as null). */
function forApi(rules: RoutingRule[]): RoutingRule[] {
  const clean = (list?: string[]) => [...new Set((list ?? []).map((x) => x.trim()).filter(Boolean))];
  return rules.map((r) => ({
    ...r,
    when: {
      channels: clean(r.when.channels) as RouteConditions['channels'],
      dialed_number_kinds: clean(r.when.dialed_number_kinds) as RouteConditions['dialed_number_kinds'],
      project_ids: clean(r.when.project_ids),
      utm_sources: clean(r.when.utm_sources),
      client_states: clean(r.when.client_states) as RouteConditions['client_states'],
      owner: r.when.owner || 'any',
      working_hours: r.when.working_hours || 'any',
    },
    overflow_department_id: r.overflow_department_id || null,
  }));
}

export function RoutingPage({ me }: { me: Me }) {
  const { t, tEnum, formatDateTime, timeZone } = useI18n();
  const directory = useDirectory();
  const [versions, setVersions] = useState<RoutingVersion[]>([]);
  const [published, setPublished] = useState<RoutingVersion | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  const [editor, setEditorRaw, clearEditor] = useDraft<Editor>('routing.editor', EMPTY);
  const [problems, setProblems] = useState<RoutingProblem[]>([]);
  const [message, setMessage] = useState<{ kind: 'saved' | 'published' | 'error' | 'stale'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const allowed = me.scopes.includes('routing:write');

  const setEditor = (next: Editor) => setEditorRaw({ ...next, saved: 0 });

  useEffect(() => {
    if (!allowed) return;
    const ctl = new AbortController();
    Promise.all([
      workApi.listVersions(ctl.signal),
      workApi.getVersion('published', ctl.signal).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }),
    ]).then(
      ([vs, p]) => {
        setVersions(vs);
        setPublished(p);
        setLoadError(null);
        // Nothing being edited: start from the published table.
        setEditorRaw(editor.rules.length || editor.base || editor.fallback_department_id ? editor : p ? fromVersion(p) : EMPTY);
      },
      (err: unknown) => !ctl.signal.aborted && setLoadError(err),
    );
    return () => ctl.abort();
    // Loaded once per reload; the editor is read for its state at that moment only.
  }, [allowed, reload]);

  const loadVersion = async (version: number) => {
    setMessage(null);
    try {
      const v = await workApi.getVersion(version);
      setEditorRaw(fromVersion(v));
      setProblems(v.status === 'draft' ? await workApi.problems(version).catch(() => []) : []);
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(err, t) });
    }
  };

  const updateRule = (i: number, patch: Partial<RoutingRule>) => setEditor({ ...editor, rules: editor.rules.map((r, j) => (j === i ? { ...r, ...patch } : r)) });
  const updateWhen = (i: number, patch: Partial<RoutingRule['when']>) => updateRule(i, { when: { ...editor.rules[i].when, ...patch } });
  const move = (i: number, by: -1 | 1) => {
    const rules = [...editor.rules];
    const j = i + by;
    if (j < 0 || j >= rules.length) return;
    [rules[i], rules[j]] = [rules[j], rules[i]];
    setEditor({ ...editor, rules });
  };
  const addRule = () =>
    setEditor({
      ...editor,
      rules: [...editor.rules, { id: newRuleId(editor.rules), name: t('routing.newRuleName', { n: editor.rules.length + 1 }), when: {}, department_id: directory.departments[0]?.id ?? '', strategy: 'round_robin', owner_first: true, overflow_department_id: '', disabled: false }],
    });

  const saveDraft = async (): Promise<number> => {
    setBusy(true);
    setMessage(null);
    try {
      const answer = await workApi.saveDraft({ rules: forApi(editor.rules), fallback_department_id: editor.fallback_department_id || null, fallback_strategy: editor.fallback_strategy, comment: editor.comment.trim() || undefined });
      const ps = answer.problems ?? (await workApi.problems(answer.version.version).catch(() => []));
      setProblems(ps);
      setEditorRaw({ ...editor, base: answer.version.version, saved: answer.version.version });
      setVersions((vs) => [answer.version, ...vs.filter((v) => v.version !== answer.version.version)]);
      setMessage({ kind: 'saved', text: t('routing.saved', { version: answer.version.version, problems: ps.length }) });
      return answer.version.version;
    } catch (err) {
      const p = workProblem(err);
      if (p.problems) setProblems(p.problems);
      setMessage({ kind: 'error', text: errorText(err, t) });
      return 0;
    } finally {
      setBusy(false);
    }
  };

  const publish = async () => {
    const version = editor.saved || (await saveDraft());
    if (!version) return;
    setBusy(true);
    try {
      const v = await workApi.publish(version, published?.version ?? 0);
      setPublished(v);
      setProblems([]);
      clearEditor();
      setEditorRaw(fromVersion(v));
      setMessage({ kind: 'published', text: t('routing.published', { version: v.version }) });
      setReload((n) => n + 1);
    } catch (err) {
      const p = workProblem(err);
      if (p.problems) setProblems(p.problems);
      // A refusal for the version's problems lists them; any other refusal is someone publishing first.
      if (err instanceof ApiError && (err.status === 412 || (err.status === 409 && !p.problems?.length))) {
        setMessage({ kind: 'stale', text: t('routing.stalePublish') });
        setReload((n) => n + 1);
      } else setMessage({ kind: 'error', text: errorText(err, t) });
    } finally {
      setBusy(false);
    }
  };

  if (!allowed) {
    return (
      <section className="panel" data-testid="routing-forbidden">
        <h1>{t('routing.title')}</h1>
        <p>{t('routing.forbidden')}</p>
      </section>
    );
  }

  const deptOptions = directory.departments.map((d) => ({ value: d.id, label: d.name }));
  const problemsOf = (r: RoutingRule) => problems.filter((p) => p.rule_id === r.id);
  const general = problems.filter((p) => !p.rule_id);

  return (
    <section className="routing" data-testid="routing-page">
      <div className="page-head">
        <h1>{t('routing.title')}</h1>
        <span className="muted" data-testid="routing-published">
          {published ? t('routing.publishedVersion', { version: published.version, at: published.published_at ? formatDateTime(published.published_at, 'short') : '' }) : t('routing.nonePublished')}
        </span>
      </div>
      {loadError !== null && (
        <div className="alert" role="alert">
          {errorText(loadError, t)}{' '}
          <button type="button" className="button-secondary" onClick={() => setReload((n) => n + 1)}>
            {t('error.retry')}
          </button>
        </div>
      )}

      <div className="routing-versions">
        <label>
          <span>{t('routing.versions')}</span>
          <select value="" onChange={(e) => e.target.value && void loadVersion(Number(e.target.value))} data-testid="routing-version-select">
            <option value="">{t('routing.loadVersion')}</option>
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                {t('routing.versionLabel', { version: v.version, status: t(`routing.status.${v.status === 'published' ? 'published' : v.status === 'draft' ? 'draft' : 'archived'}`), rules: v.rule_count ?? v.rules?.length ?? 0 })}
              </option>
            ))}
          </select>
        </label>
        <span className="muted" data-testid="routing-base">
          {editor.base ? t('routing.editingFrom', { version: editor.base }) : t('routing.editingNew')}
        </span>
      </div>

      <div className="routing-layout">
        <div className="routing-editor" data-testid="routing-editor">
          <ol className="rules">
            {editor.rules.map((r, i) => {
              const ps = problemsOf(r);
              return (
                <li key={r.id} className={`rule panel${r.disabled ? ' rule-disabled' : ''}`} data-testid="rule" data-rule-id={r.id}>
                  <fieldset>
                    <legend>
                      {t('routing.ruleN', { n: i + 1 })} <code>{r.id}</code>
                    </legend>
                    <div className="rule-grid">
                      <label>
                        <span>{t('routing.name')}</span>
                        <input type="text" value={r.name} maxLength={100} onChange={(e) => updateRule(i, { name: e.target.value })} data-testid="rule-name" />
                      </label>
                      <label>
                        <span>{t('routing.department')}</span>
                        <select value={r.department_id} onChange={(e) => updateRule(i, { department_id: e.target.value })} data-testid="rule-department">
                          <option value="">{t('work.choose')}</option>
                          {deptOptions.map((d) => (
                            <option key={d.value} value={d.value}>
                              {d.label}
                            </option>
                          ))}
                        </select>
                      </label>
                      <label>
                        <span>{t('routing.strategy')}</span>
                        <select value={r.strategy} onChange={(e) => updateRule(i, { strategy: e.target.value as Strategy })} data-testid="rule-strategy">
                          {STRATEGIES.map((s) => (
                            <option key={s} value={s}>
                              {t(`routing.strategy.${s}`)}
                            </option>
                          ))}
                        </select>
                      </label>
                      <label>
                        <span>{t('routing.overflow')}</span>
                        <select value={r.overflow_department_id ?? ''} onChange={(e) => updateRule(i, { overflow_department_id: e.target.value })} data-testid="rule-overflow">
                          <option value="">{t('routing.noOverflow')}</option>
                          {deptOptions.map((d) => (
                            <option key={d.value} value={d.value}>
                              {d.label}
                            </option>
                          ))}
                        </select>
                      </label>
                      <label className="check">
                        <input type="checkbox" checked={r.owner_first} onChange={(e) => updateRule(i, { owner_first: e.target.checked })} data-testid="rule-owner-first" />
                        {t('routing.ownerFirst')}
                      </label>
                      <label className="check">
                        <input type="checkbox" checked={r.disabled} onChange={(e) => updateRule(i, { disabled: e.target.checked })} data-testid="rule-disabled" />
                        {t('routing.disabled')}
                      </label>
                    </div>
                    <div className="rule-when">
                      <strong>{t('routing.when')}</strong>
                      <MultiSelect label={t('journal.channel')} options={CHANNELS.map((c) => ({ value: c, label: tEnum('channel', c) }))} selected={r.when.channels ?? []} onChange={(channels) => updateWhen(i, { channels: channels as RouteConditions['channels'] })} testId="rule-channels" />
                      <MultiSelect label={t('routing.dialedKind')} options={DIALED_KINDS.map((k) => ({ value: k, label: t(`routing.dialed.${k}`) }))} selected={r.when.dialed_number_kinds ?? []} onChange={(dialed_number_kinds) => updateWhen(i, { dialed_number_kinds: dialed_number_kinds as RouteConditions['dialed_number_kinds'] })} testId="rule-dialed" />
                      {directory.projects.length > 0 && (
                        <MultiSelect label={t('work.filter.project')} options={directory.projects.map((p) => ({ value: p.id, label: p.name }))} selected={r.when.project_ids ?? []} onChange={(project_ids) => updateWhen(i, { project_ids })} testId="rule-projects" />
                      )}
                      <MultiSelect label={t('routing.clientState')} options={CLIENT_STATES.map((k) => ({ value: k, label: t(`routing.client.${k}`) }))} selected={r.when.client_states ?? []} onChange={(client_states) => updateWhen(i, { client_states: client_states as RouteConditions['client_states'] })} testId="rule-client-states" />
                      <label>
                        <span>{t('routing.utmSources')}</span>
                        <input
                          type="text"
                          value={(r.when.utm_sources ?? []).join(', ')}
                          placeholder="google, yandex"
                          onChange={(e) => updateWhen(i, { utm_sources: e.target.value.split(',').map((x) => x.trim()) })}
                          data-testid="rule-utm"
                        />
                      </label>
                      <label>
                        <span>{t('routing.owner')}</span>
                        <select value={r.when.owner || 'any'} onChange={(e) => updateWhen(i, { owner: e.target.value as RouteConditions['owner'] })} data-testid="rule-owner">
                          {OWNER.map((o) => (
                            <option key={o} value={o}>
                              {t(`routing.ownerCond.${o}`)}
                            </option>
                          ))}
                        </select>
                      </label>
                      <label>
                        <span>{t('routing.hours')}</span>
                        <select value={r.when.working_hours || 'any'} onChange={(e) => updateWhen(i, { working_hours: e.target.value as RouteConditions['working_hours'] })} data-testid="rule-hours">
                          {HOURS.map((o) => (
                            <option key={o} value={o}>
                              {t(`routing.hoursCond.${o}`)}
                            </option>
                          ))}
                        </select>
                      </label>
                    </div>
                    <div className="rule-buttons">
                      <button type="button" className="button-small" disabled={i === 0} onClick={() => move(i, -1)} aria-label={t('routing.up', { n: i + 1 })} data-testid="rule-up">
                        ↑
                      </button>
                      <button type="button" className="button-small" disabled={i === editor.rules.length - 1} onClick={() => move(i, 1)} aria-label={t('routing.down', { n: i + 1 })} data-testid="rule-down">
                        ↓
                      </button>
                      <button type="button" className="button-small" onClick={() => setEditor({ ...editor, rules: editor.rules.filter((_, j) => j !== i) })} data-testid="rule-remove">
                        {t('routing.remove')}
                      </button>
                    </div>
                    {ps.length > 0 && (
                      <ul className="problems" role="alert" data-testid="rule-problems">
                        {ps.map((p, k) => (
                          <li key={k} data-code={p.code}>
                            {p.message || p.code}
                          </li>
                        ))}
                      </ul>
                    )}
                  </fieldset>
                </li>
              );
            })}
          </ol>
          <button type="button" className="button-secondary" onClick={addRule} data-testid="rule-add">
            {t('routing.addRule')}
          </button>

          <fieldset className="panel rule-fallback">
            <legend>{t('routing.fallback')}</legend>
            <label>
              <span>{t('routing.department')}</span>
              <select value={editor.fallback_department_id} onChange={(e) => setEditor({ ...editor, fallback_department_id: e.target.value })} data-testid="fallback-department">
                <option value="">{t('work.choose')}</option>
                {deptOptions.map((d) => (
                  <option key={d.value} value={d.value}>
                    {d.label}
                  </option>
                ))}
              </select>
            </label>
            <label>
              <span>{t('routing.strategy')}</span>
              <select value={editor.fallback_strategy} onChange={(e) => setEditor({ ...editor, fallback_strategy: e.target.value as Strategy })} data-testid="fallback-strategy">
                {STRATEGIES.map((s) => (
                  <option key={s} value={s}>
                    {t(`routing.strategy.${s}`)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              <span>{t('routing.comment')}</span>
              <input type="text" value={editor.comment} maxLength={500} onChange={(e) => setEditor({ ...editor, comment: e.target.value })} data-testid="routing-comment" />
            </label>
          </fieldset>
          {general.length > 0 && (
            <ul className="problems" role="alert" data-testid="routing-problems">
              {general.map((p, k) => (
                <li key={k} data-code={p.code}>
                  {p.message || p.code}
                </li>
              ))}
            </ul>
          )}
          <div className="actions-row">
            <button type="button" className="button-secondary" disabled={busy} onClick={() => void saveDraft()} data-testid="routing-save">
              {t('routing.saveDraft')}
            </button>
            <button type="button" className="button-primary" disabled={busy} onClick={() => void publish()} data-testid="routing-publish">
              {t('routing.publish')}
            </button>
            {editor.saved ? <span className="muted">{t('routing.savedAs', { version: editor.saved })}</span> : null}
          </div>
          {message && (
            <p className={message.kind === 'saved' || message.kind === 'published' ? 'note' : 'alert'} role={message.kind === 'saved' || message.kind === 'published' ? 'status' : 'alert'} data-testid="routing-message" data-kind={message.kind}>
              {message.text}
            </p>
          )}
        </div>

        <Simulator editor={editor} timeZone={timeZone} />
      </div>
    </section>
  );
}

/** The simulator's sample as the form holds it (sessionStorage draft). */
interface Sample {
  channel: string;
  dialed_number_kind: string;
  project_id: string;
  utm_source: string;
  client_state: string;
  owner_id: string;
  atLocal: string;
}

function Simulator({ editor, timeZone }: { editor: Editor; timeZone: string }) {
  const { t, tEnum } = useI18n();
  const directory = useDirectory();
  const [sample, setSample] = useDraft<Sample>('routing.sample', { channel: 'phone', dialed_number_kind: '', project_id: '', utm_source: '', client_state: 'none', owner_id: '', atLocal: '' });
  const [decision, setDecision] = useState<RouteDecision | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const body = useMemo(
    () => ({
      input: {
        channel: sample.channel as RouteInput['channel'],
        dialed_number_kind: (sample.dialed_number_kind || undefined) as RouteInput['dialed_number_kind'],
        project_id: sample.project_id || undefined,
        utm_source: sample.utm_source.trim() || undefined,
        client_state: (sample.client_state || undefined) as RouteInput['client_state'],
        owner_id: sample.owner_id || undefined,
        at: sample.atLocal ? localInputToIso(sample.atLocal, timeZone) || undefined : undefined,
      },
      // A rule still without a department cannot be evaluated: it is left out until it has one.
      rules: forApi(editor.rules.filter((r) => r.department_id)),
      fallback_department_id: editor.fallback_department_id || null,
      fallback_strategy: editor.fallback_strategy,
    }),
    [sample, editor.rules, editor.fallback_department_id, editor.fallback_strategy, timeZone],
  );
  const settled = useDebounced(JSON.stringify(body), SIMULATE_DEBOUNCE_MS);

  useEffect(() => {
    const ctl = new AbortController();
    setBusy(true);
    workApi.simulate(JSON.parse(settled) as typeof body, ctl.signal).then(
      (d) => {
        setDecision(d);
        setError('');
        setBusy(false);
      },
      (err: unknown) => {
        if (ctl.signal.aborted) return;
        setDecision(null);
        setError(errorText(err, t));
        setBusy(false);
      },
    );
    return () => ctl.abort();
  }, [settled, t]);

  const ruleName = (id?: string | null) => {
    if (!id) return t('routing.fallback');
    const r = editor.rules.find((x) => x.id === id);
    return r ? `${r.name} (${id})` : id;
  };

  return (
    <aside className="simulator panel" aria-labelledby="simulator-title" data-testid="simulator">
      <h2 id="simulator-title">{t('routing.simulator')}</h2>
      <p className="muted">{t('routing.simulatorHint')}</p>
      <div className="rule-grid">
        <label>
          <span>{t('journal.channel')}</span>
          <select value={sample.channel} onChange={(e) => setSample({ ...sample, channel: e.target.value })} data-testid="sim-channel">
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {tEnum('channel', c)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('routing.dialedKind')}</span>
          <select value={sample.dialed_number_kind ?? ''} onChange={(e) => setSample({ ...sample, dialed_number_kind: e.target.value })} data-testid="sim-dialed">
            <option value="">{t('empty')}</option>
            {DIALED_KINDS.filter((k) => k !== 'none').map((k) => (
              <option key={k} value={k}>
                {t(`routing.dialed.${k}`)}
              </option>
            ))}
          </select>
        </label>
        {directory.projects.length > 0 && (
          <label>
            <span>{t('work.filter.project')}</span>
            <select value={sample.project_id ?? ''} onChange={(e) => setSample({ ...sample, project_id: e.target.value })} data-testid="sim-project">
              <option value="">{t('empty')}</option>
              {directory.projects.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          <span>{t('work.filter.source')}</span>
          <input type="text" value={sample.utm_source ?? ''} onChange={(e) => setSample({ ...sample, utm_source: e.target.value })} data-testid="sim-utm" />
        </label>
        <label>
          <span>{t('routing.clientState')}</span>
          <select value={sample.client_state ?? 'none'} onChange={(e) => setSample({ ...sample, client_state: e.target.value })} data-testid="sim-client-state">
            {CLIENT_STATES.map((k) => (
              <option key={k} value={k}>
                {t(`routing.client.${k}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('routing.clientOwner')}</span>
          <select value={sample.owner_id ?? ''} onChange={(e) => setSample({ ...sample, owner_id: e.target.value })} data-testid="sim-owner">
            <option value="">{t('empty')}</option>
            {directory.users.map((u) => (
              <option key={u.id} value={u.id}>
                {u.display_name || u.email}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('routing.at')}</span>
          <input type="datetime-local" value={sample.atLocal} onChange={(e) => setSample({ ...sample, atLocal: e.target.value })} data-testid="sim-at" />
        </label>
      </div>

      <div className="sim-result" aria-live="polite" aria-busy={busy} data-testid="sim-result">
        {error && (
          <p className="alert" role="alert" data-testid="sim-error">
            {error}
          </p>
        )}
        {decision && (
          <dl className="dl">
            <div className="dl-row">
              <dt>{t('routing.department')}</dt>
              <dd data-testid="sim-department" data-id={decision.department_id ?? ''}>
                {departmentName(directory.departments, decision.department_id) || t('empty')}
              </dd>
            </div>
            <div className="dl-row">
              <dt>{t('routing.rule')}</dt>
              <dd data-testid="sim-rule" data-id={decision.rule_id ?? ''}>
                {ruleName(decision.rule_id)}
              </dd>
            </div>
            <div className="dl-row">
              <dt>{t('work.assignee')}</dt>
              <dd data-testid="sim-assignee">
                {decision.assignee_id ? `${userName(directory.users, decision.assignee_id)} (${decision.assigned_by ?? ''})` : t('routing.unassigned', { reason: decision.unassigned_reason || t('empty') })}
              </dd>
            </div>
            {decision.overflow_path && decision.overflow_path.length > 0 && (
              <div className="dl-row">
                <dt>{t('routing.overflowPath')}</dt>
                <dd>{decision.overflow_path.map((d) => departmentName(directory.departments, d)).join(' → ')}</dd>
              </div>
            )}
          </dl>
        )}
        {decision?.trace && decision.trace.length > 0 && (
          <ol className="trace" data-testid="sim-trace">
            {decision.trace.map((s) => (
              <li key={s.rule_id} data-matched={s.matched ? 'true' : 'false'}>
                {ruleName(s.rule_id)}: {s.disabled ? t('routing.trace.disabled') : s.matched ? t('routing.trace.matched') : t('routing.trace.failed', { condition: s.failed_condition || '?' })}
              </li>
            ))}
          </ol>
        )}
      </div>
    </aside>
  );
}
