/**
 * One deal `/deals/:id`: its fields (view, and edit: title, amount, currency, expected close date,
 * owner, sales channel, the pipeline's custom fields by type), stage and state, the move (the stages the
 * definition allows from here; the lost reason when the target is lost), reopen for a won or lost deal,
 * the checklist of the current stage (who ticked what, when), the stage history (time in each stage in
 * words), the linked requests, the client card and its timeline. Times in the tenant's zone.
 */
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useI18n, type MessageKey } from '../../i18n';
import { Link } from '../../router';
import { contactsApi } from '../contacts/api';
import { Timeline } from '../contacts/Timeline';
import { useDirectory } from '../work/hooks';
import { funnelApi, SALES_CHANNELS, type ChecklistItem, type Deal, type DealPatch, type DealWithRequests, type FieldDefinition, type Pipeline, type SalesChannel, type StageChange } from './api';
import { allowedTargets, amountInput, fieldValue, formatMoney, humanDuration, parseAmount, secondsSince, stageName } from './board';
import { intlLocale, RefusalAlert, useExplainRefusal, type RefusalMessage } from './BoardPage';

export function DealPage({ id }: { id: string }) {
  const { t } = useI18n();
  const [deal, setDeal] = useState<DealWithRequests | null>(null);
  const [pipeline, setPipeline] = useState<Pipeline | null>(null);
  const [history, setHistory] = useState<StageChange[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [missing, setMissing] = useState(false);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    (async () => {
      const d = await funnelApi.getDeal(id, ctl.signal);
      const [p, h] = await Promise.all([funnelApi.getPipeline(d.pipeline_id, d.pipeline_version, ctl.signal), funnelApi.history(id, ctl.signal)]);
      setDeal(d);
      setPipeline(p);
      setHistory(h);
    })().catch((err: unknown) => {
      if (ctl.signal.aborted) return;
      if (err instanceof ApiError && (err.status === 404 || err.status === 400)) setMissing(true);
      else setError(err);
    });
    return () => ctl.abort();
  }, [id, reloads]);

  /** After a change: the deal the server answered, and the history again (a move adds to it). */
  const changed = useCallback(
    (d: Deal, historyToo = false) => {
      setDeal((cur) => (cur ? { ...d, requests: cur.requests } : cur));
      if (historyToo) funnelApi.history(id).then(setHistory, () => undefined);
      // A deal moved to a newer version by a migration meanwhile: read that definition.
      if (pipeline && d.pipeline_version !== pipeline.version) funnelApi.getPipeline(d.pipeline_id, d.pipeline_version).then(setPipeline, () => undefined);
    },
    [id, pipeline],
  );

  const head = (
    <p className="back">
      <Link to={deal ? `/deals?pipeline=${deal.pipeline_id}` : '/deals'}>{t('funnel.deal.back')}</Link>
    </p>
  );
  if (missing)
    return (
      <>
        {head}
        <section className="panel" data-testid="deal-missing">
          <h1>{t('funnel.deal.notFound')}</h1>
        </section>
      </>
    );
  if (error !== null)
    return (
      <>
        {head}
        <ErrorMessage error={error} onRetry={() => setReloads((n) => n + 1)} />
      </>
    );
  if (!deal || !pipeline)
    return (
      <>
        {head}
        <p className="page-status" role="status">
          {t('app.loading')}
        </p>
      </>
    );

  return (
    <article className="request deal" data-testid="deal-page" data-id={deal.id} data-version={deal.version}>
      {head}
      <div className="page-head">
        <h1 data-testid="deal-title">{deal.title}</h1>
        <span className="badge" data-testid="deal-stage" data-stage={deal.stage}>
          {deal.stage_name || stageName(pipeline, deal.stage)}
        </span>
        <span className={`badge deal-state-${deal.state}`} data-testid="deal-state" data-state={deal.state}>
          {t(`funnel.deal.state.${deal.state}`)}
        </span>
      </div>
      <div className="grid grid-2">
        <Fields deal={deal} pipeline={pipeline} onChanged={(d) => changed(d)} />
        <div>
          <MovePanel deal={deal} pipeline={pipeline} onChanged={(d) => changed(d, true)} />
          <Checklist deal={deal} onChanged={(d) => changed(d)} />
        </div>
      </div>
      <section className="panel" aria-labelledby="deal-history-title">
        <h2 id="deal-history-title">{t('funnel.deal.history')}</h2>
        <History items={history} pipeline={pipeline} />
      </section>
      <section className="panel" aria-labelledby="deal-requests-title">
        <h2 id="deal-requests-title">{t('funnel.deal.requests')}</h2>
        {deal.requests.length ? (
          <ul className="plain-list">
            {deal.requests.map((r) => (
              <LinkedRequestRow key={r.request_id} r={r} />
            ))}
          </ul>
        ) : (
          <p className="muted">{t('funnel.deal.noRequests')}</p>
        )}
      </section>
      {deal.client_card_id && (
        <Timeline key={`timeline-${deal.client_card_id}-${deal.version}`} keyId={deal.client_card_id} fetchPage={(cursor, signal) => contactsApi.cardTimeline(deal.client_card_id!, cursor, signal)} />
      )}
    </article>
  );
}

function LinkedRequestRow({ r }: { r: DealWithRequests['requests'][number] }) {
  const { t, formatDateTime } = useI18n();
  return (
    <li data-testid="deal-request" data-kind={r.kind}>
      <Link to={`/requests/${r.request_id}`}>{t('funnel.deal.request', { id: r.request_id.slice(0, 8) })}</Link>{' '}
      <span className="muted">
        {t(r.kind === 'attached' ? 'funnel.deal.attached' : 'funnel.deal.converted')}, <time dateTime={r.linked_at}>{formatDateTime(r.linked_at, 'short')}</time>
      </span>
    </li>
  );
}

function useUserName() {
  const dir = useDirectory();
  const { t } = useI18n();
  return (id: string | null | undefined) => (id ? (dir.users.find((u) => u.id === id)?.display_name ?? id.slice(0, 8)) : t('funnel.deal.nobody'));
}

function fieldText(f: FieldDefinition, v: string | undefined, t: (k: MessageKey) => string): string {
  if (!v) return '—';
  if (f.type === 'boolean') return v === 'true' ? t('funnel.deal.yes') : t('funnel.deal.no');
  return v;
}

function Fields({ deal, pipeline, onChanged }: { deal: Deal; pipeline: Pipeline; onChanged: (d: Deal) => void }) {
  const { t, locale, formatDateTime } = useI18n();
  const dir = useDirectory();
  const userName = useUserName();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(() => draftOf(deal));
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const start = () => {
    setDraft(draftOf(deal));
    setInvalid({});
    setError(null);
    setEditing(true);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problems: Record<string, string> = {};
    const title = draft.title.trim();
    if (!title) problems.title = t('funnel.deal.required');
    else if (title.length > 200) problems.title = t('funnel.deal.tooLong', { max: 200 });
    const currency = draft.currency.trim().toUpperCase();
    if (!/^[A-Z]{3}$/.test(currency)) problems.currency = t('funnel.deal.badCurrency');
    const amount = draft.amount.trim() ? parseAmount(draft.amount, currency) : 0;
    if (amount === null) problems.amount = t('funnel.deal.badAmount');
    const custom: Record<string, string> = {};
    for (const f of pipeline.fields) {
      const r = fieldValue(f.type, draft.custom[f.key] ?? '', f.options);
      if ('error' in r) problems[`custom.${f.key}`] = t(`funnel.deal.bad.${r.error}`);
      else if (r.value !== (deal.custom_fields[f.key] ?? '')) custom[f.key] = r.value;
    }
    setInvalid(problems);
    if (Object.keys(problems).length) return;
    const patch: DealPatch = {};
    if (title !== deal.title) patch.title = title;
    if (amount !== deal.amount_minor) patch.amount_minor = amount!;
    if (currency !== deal.currency) patch.currency = currency;
    if ((draft.owner || null) !== deal.owner_id) patch.owner_id = draft.owner || null;
    if ((draft.channel || null) !== deal.sales_channel) patch.sales_channel = (draft.channel || null) as SalesChannel | null;
    if ((draft.close || null) !== (deal.expected_close_date || null)) patch.expected_close_date = draft.close || null;
    if (Object.keys(custom).length) patch.custom_fields = custom;
    if (!Object.keys(patch).length) return setEditing(false);
    setBusy(true);
    setError(null);
    try {
      onChanged(await funnelApi.updateDeal(deal.id, deal.version, patch));
      setEditing(false);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (!editing)
    return (
      <section className="panel" aria-labelledby="deal-fields-title" data-testid="deal-fields">
        <div className="panel-head">
          <h2 id="deal-fields-title">{t('funnel.deal.fields')}</h2>
          <button type="button" className="button-secondary" onClick={start} data-testid="deal-edit">
            {t('funnel.deal.edit')}
          </button>
        </div>
        <dl className="dl">
          <Row label={t('funnel.deal.field.amount')} testId="deal-amount">
            {formatMoney(deal.amount_minor, deal.currency, intlLocale(locale))}
          </Row>
          <Row label={t('funnel.deal.field.expected_close_date')}>{deal.expected_close_date || '—'}</Row>
          <Row label={t('funnel.deal.field.owner_id')} testId="deal-owner">
            {userName(deal.owner_id)}
          </Row>
          <Row label={t('funnel.deal.field.sales_channel')}>{deal.sales_channel ? t(`funnel.deal.channel.${deal.sales_channel}`) : '—'}</Row>
          <Row label={t('funnel.deal.pipeline')}>
            {pipeline.name} <span className="muted">v{deal.pipeline_version}</span>
          </Row>
          <Row label={t('funnel.deal.field.client_card_id')}>
            {deal.client_card_id ? (
              <Link to={`/client-cards/${deal.client_card_id}`} data-testid="deal-card-link">
                {t('funnel.deal.cardLink')}
              </Link>
            ) : (
              '—'
            )}
          </Row>
          {deal.company_id && (
            <Row label={t('funnel.deal.field.company_id')}>
              <Link to={`/companies/${deal.company_id}`}>{t('funnel.deal.companyLink')}</Link>
            </Row>
          )}
          {deal.contact_ids.length > 0 && (
            <Row label={t('funnel.deal.field.contact_ids')}>
              {deal.contact_ids.map((c, i) => (
                <span key={c}>
                  {i > 0 && ', '}
                  <Link to={`/contacts/${c}`}>{t('funnel.deal.contactLink', { n: i + 1 })}</Link>
                </span>
              ))}
            </Row>
          )}
          {deal.state === 'lost' && deal.lost_reason && <Row label={t('funnel.deal.lostReason')}>{deal.lost_reason}</Row>}
          {pipeline.fields.map((f) => (
            <Row key={f.key} label={f.label} testId={`deal-custom-${f.key}`}>
              {fieldText(f, deal.custom_fields[f.key], t)}
            </Row>
          ))}
          <Row label={t('funnel.deal.created')}>
            <time dateTime={deal.created_at}>{formatDateTime(deal.created_at)}</time>
          </Row>
          {deal.closed_at && (
            <Row label={t('funnel.deal.closed')}>
              <time dateTime={deal.closed_at}>{formatDateTime(deal.closed_at)}</time>
            </Row>
          )}
        </dl>
      </section>
    );

  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const err = (k: string) =>
    invalid[k] ? (
      <p className="field-error" role="alert" data-testid={`deal-invalid-${k.replace('.', '-')}`}>
        {invalid[k]}
      </p>
    ) : null;
  return (
    <form className="panel" onSubmit={submit} noValidate aria-labelledby="deal-fields-title" data-testid="deal-form">
      <h2 id="deal-fields-title">{t('funnel.deal.fields')}</h2>
      <div className="field">
        <label htmlFor="deal-title-input">{t('funnel.deal.field.title')}</label>
        <input id="deal-title-input" value={draft.title} maxLength={200} onChange={(e) => set({ title: e.target.value })} aria-invalid={invalid.title ? true : undefined} data-testid="deal-title-input" />
        {err('title')}
      </div>
      <div className="field-inline">
        <div className="field">
          <label htmlFor="deal-amount-input">{t('funnel.deal.field.amount')}</label>
          <input id="deal-amount-input" inputMode="decimal" value={draft.amount} onChange={(e) => set({ amount: e.target.value })} aria-invalid={invalid.amount ? true : undefined} data-testid="deal-amount-input" />
          {err('amount')}
        </div>
        <div className="field">
          <label htmlFor="deal-currency-input">{t('funnel.deal.currency')}</label>
          <input id="deal-currency-input" value={draft.currency} maxLength={3} size={4} onChange={(e) => set({ currency: e.target.value.toUpperCase() })} aria-invalid={invalid.currency ? true : undefined} data-testid="deal-currency-input" />
          {err('currency')}
        </div>
      </div>
      <div className="field">
        <label htmlFor="deal-close-input">{t('funnel.deal.field.expected_close_date')}</label>
        <input id="deal-close-input" type="date" value={draft.close} onChange={(e) => set({ close: e.target.value })} data-testid="deal-close-input" />
      </div>
      <div className="field">
        <label htmlFor="deal-owner-input">{t('funnel.deal.field.owner_id')}</label>
        <select id="deal-owner-input" value={draft.owner} onChange={(e) => set({ owner: e.target.value })} data-testid="deal-owner-input">
          <option value="">{t('funnel.deal.nobody')}</option>
          {draft.owner && !dir.users.some((u) => u.id === draft.owner) && <option value={draft.owner}>{draft.owner.slice(0, 8)}</option>}
          {dir.users.map((u) => (
            <option key={u.id} value={u.id}>
              {u.display_name || u.email}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="deal-channel-input">{t('funnel.deal.field.sales_channel')}</label>
        <select id="deal-channel-input" value={draft.channel} onChange={(e) => set({ channel: e.target.value })} data-testid="deal-channel-input">
          <option value="">—</option>
          {SALES_CHANNELS.map((c) => (
            <option key={c} value={c}>
              {t(`funnel.deal.channel.${c}`)}
            </option>
          ))}
        </select>
      </div>
      {pipeline.fields.map((f) => (
        <CustomField key={f.key} field={f} value={draft.custom[f.key] ?? ''} onChange={(v) => set({ custom: { ...draft.custom, [f.key]: v } })} error={err(`custom.${f.key}`)} />
      ))}
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={busy} data-testid="deal-save">
          {t('funnel.deal.save')}
        </button>
        <button type="button" className="button-secondary" onClick={() => setEditing(false)} disabled={busy}>
          {t('funnel.deal.cancel')}
        </button>
      </div>
      {error !== null && <ErrorMessage error={error} testId="deal-error" />}
    </form>
  );
}

interface Draft {
  title: string;
  amount: string;
  currency: string;
  close: string;
  owner: string;
  channel: string;
  custom: Record<string, string>;
}

function draftOf(d: Deal): Draft {
  return {
    title: d.title,
    amount: amountInput(d.amount_minor, d.currency),
    currency: d.currency,
    close: d.expected_close_date ?? '',
    owner: d.owner_id ?? '',
    channel: d.sales_channel ?? '',
    custom: { ...d.custom_fields },
  };
}

function CustomField({ field, value, onChange, error }: { field: FieldDefinition; value: string; onChange: (v: string) => void; error: ReactNode }) {
  const { t } = useI18n();
  const id = `deal-cf-${field.key}`;
  let input;
  if (field.type === 'boolean')
    input = (
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} data-testid={id}>
        <option value="">—</option>
        <option value="true">{t('funnel.deal.yes')}</option>
        <option value="false">{t('funnel.deal.no')}</option>
      </select>
    );
  else if (field.type === 'enum')
    input = (
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} data-testid={id}>
        <option value="">—</option>
        {field.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  else
    input = (
      <input
        id={id}
        type={field.type === 'date' ? 'date' : 'text'}
        inputMode={field.type === 'number' ? 'decimal' : field.type === 'integer' ? 'numeric' : undefined}
        value={value}
        maxLength={1000}
        onChange={(e) => onChange(e.target.value)}
        data-testid={id}
      />
    );
  return (
    <div className="field">
      <label htmlFor={id}>{field.label}</label>
      {input}
      {error}
    </div>
  );
}

function Row({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div className="dl-row">
      <dt>{label}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}

function MovePanel({ deal, pipeline, onChanged }: { deal: Deal; pipeline: Pipeline; onChanged: (d: Deal) => void }) {
  const { t } = useI18n();
  const explainRefusal = useExplainRefusal();
  const targets = allowedTargets(pipeline, deal.stage);
  const [to, setTo] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<RefusalMessage | null>(null);
  const [busy, setBusy] = useState(false);
  const target = pipeline.stages.find((s) => s.key === to);
  const openStages = pipeline.stages.filter((s) => s.outcome === 'open');
  const [reopenTo, setReopenTo] = useState('');

  useEffect(() => {
    setTo('');
    setReason('');
  }, [deal.stage]);

  const say = (detail: string) => setError({ headline: '', words: '', detail });
  const explain = (err: unknown, headline: string) => setError(explainRefusal(err, pipeline, deal.stage, headline));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!to) return say(t('funnel.deal.chooseStage'));
    if (target?.outcome === 'lost' && !reason) return say(t('funnel.deal.chooseReason'));
    setBusy(true);
    try {
      onChanged(await funnelApi.move(deal.id, { to_stage: to, lost_reason: target?.outcome === 'lost' ? reason : undefined, expected_version: deal.version }));
    } catch (err) {
      explain(err, t('funnel.board.refusal.headline', { title: deal.title, stage: target?.name ?? to }));
    } finally {
      setBusy(false);
    }
  };

  const reopen = async () => {
    setError(null);
    setBusy(true);
    try {
      onChanged(await funnelApi.reopen(deal.id, { to_stage: reopenTo || undefined, expected_version: deal.version }));
    } catch (err) {
      explain(err, t('funnel.deal.reopenRefused'));
    } finally {
      setBusy(false);
    }
  };

  if (deal.state !== 'open')
    return (
      <section className="panel" aria-labelledby="deal-move-title">
        <h2 id="deal-move-title">{t('funnel.deal.reopenTitle')}</h2>
        <div className="field">
          <label htmlFor="deal-reopen-stage">{t('funnel.deal.reopenTo')}</label>
          <select id="deal-reopen-stage" value={reopenTo} onChange={(e) => setReopenTo(e.target.value)} data-testid="deal-reopen-stage">
            <option value="">{t('funnel.deal.firstStage', { name: openStages[0]?.name ?? '' })}</option>
            {openStages.map((s) => (
              <option key={s.key} value={s.key}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="button-secondary" onClick={() => void reopen()} disabled={busy} data-testid="deal-reopen">
          {t('funnel.deal.reopen')}
        </button>
        {error && <RefusalAlert message={error} testId="deal-error" />}
      </section>
    );

  return (
    <form className="panel" onSubmit={submit} noValidate aria-labelledby="deal-move-title" data-testid="deal-move">
      <h2 id="deal-move-title">{t('funnel.deal.moveTitle')}</h2>
      {targets.length === 0 ? (
        <p className="muted">{t('funnel.deal.noTargets')}</p>
      ) : (
        <>
          <div className="field">
            <label htmlFor="deal-move-select">{t('funnel.deal.moveTo')}</label>
            <select id="deal-move-select" value={to} onChange={(e) => setTo(e.target.value)} data-testid="deal-move-select">
              <option value="">—</option>
              {targets.map((s) => (
                <option key={s.key} value={s.key}>
                  {s.name}
                </option>
              ))}
            </select>
          </div>
          {target?.outcome === 'lost' && (
            <div className="field">
              <label htmlFor="deal-lost-reason">{t('funnel.board.lost.reason')}</label>
              <select id="deal-lost-reason" value={reason} onChange={(e) => setReason(e.target.value)} data-testid="deal-lost-reason">
                <option value="">—</option>
                {pipeline.lost_reasons.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            </div>
          )}
          <button type="submit" className="button-primary" disabled={busy} data-testid="deal-move-submit">
            {t('funnel.deal.move')}
          </button>
        </>
      )}
      {error && <RefusalAlert message={error} testId="deal-error" />}
    </form>
  );
}

function Checklist({ deal, onChanged }: { deal: Deal; onChanged: (d: Deal) => void }) {
  const { t, formatDateTime } = useI18n();
  const userName = useUserName();
  const [busy, setBusy] = useState('');
  // The tick shows at once; the deal the server answers replaces it (a refusal puts it back).
  const [ticking, setTicking] = useState<Record<string, boolean>>({});
  const [error, setError] = useState<unknown>(null);
  if (!deal.checklist.length) return null;
  const isChecked = (i: ChecklistItem) => ticking[i.key] ?? i.checked;
  const done = deal.checklist.filter(isChecked).length;
  const untick = (key: string) =>
    setTicking((cur) => {
      const { [key]: _gone, ...rest } = cur;
      return rest;
    });
  const tick = async (key: string, checked: boolean) => {
    setBusy(key);
    setTicking((cur) => ({ ...cur, [key]: checked }));
    setError(null);
    try {
      onChanged(await funnelApi.setChecklistItem(deal.id, key, checked));
    } catch (err) {
      setError(err);
    } finally {
      untick(key);
      setBusy('');
    }
  };
  return (
    <section className="panel" aria-labelledby="deal-checklist-title" data-testid="deal-checklist">
      <h2 id="deal-checklist-title">
        {t('funnel.deal.checklist')} <span className="muted">{t('funnel.deal.checklistDone', { done, total: deal.checklist.length })}</span>
      </h2>
      <ul className="plain-list checklist">
        {deal.checklist.map((item) => (
          <li key={item.key} data-testid="checklist-item" data-key={item.key} data-checked={item.checked}>
            <label>
              <input type="checkbox" checked={isChecked(item)} disabled={busy === item.key || deal.state !== 'open'} onChange={(e) => void tick(item.key, e.target.checked)} /> {item.text}
            </label>
            {item.checked && item.checked_at && (
              <span className="muted checklist-who">
                {' '}
                {t('funnel.deal.checkedBy', { who: userName(item.checked_by) })}, <time dateTime={item.checked_at}>{formatDateTime(item.checked_at, 'short')}</time>
              </span>
            )}
          </li>
        ))}
      </ul>
      {error !== null && <ErrorMessage error={error} testId="deal-error" />}
    </section>
  );
}

function History({ items, pipeline }: { items: StageChange[]; pipeline: Pipeline }) {
  const { t, locale, formatDateTime } = useI18n();
  const userName = useUserName();
  if (!items.length) return <p className="muted">{t('funnel.deal.noHistory')}</p>;
  const kindText = (k: string) => {
    const key = `funnel.deal.hist.${k}` as MessageKey;
    const text = t(key);
    return text === key ? k : text;
  };
  const last = items[items.length - 1];
  return (
    <table className="table compact" data-testid="deal-history">
      <thead>
        <tr>
          <th scope="col">{t('funnel.deal.hist.at')}</th>
          <th scope="col">{t('funnel.deal.hist.change')}</th>
          <th scope="col">{t('funnel.deal.hist.inStage')}</th>
          <th scope="col">{t('funnel.deal.hist.by')}</th>
        </tr>
      </thead>
      <tbody>
        {items.map((h) => (
          <tr key={h.seq} data-testid="deal-history-row" data-kind={h.kind} data-to={h.to_stage ?? ''}>
            <td data-label={t('funnel.deal.hist.at')} className="nowrap">
              <time dateTime={h.changed_at}>{formatDateTime(h.changed_at, 'short')}</time>
            </td>
            <td data-label={t('funnel.deal.hist.change')}>
              <span className="badge">{kindText(h.kind)}</span>{' '}
              {h.from_stage ? `${h.from_stage_name || stageName(pipeline, h.from_stage)} → ` : ''}
              {h.to_stage ? h.to_stage_name || stageName(pipeline, h.to_stage) : ''}
              {h.lost_reason && <span className="muted"> ({h.lost_reason})</span>}
              {h.comment && <div className="muted break">{h.comment}</div>}
            </td>
            <td data-label={t('funnel.deal.hist.inStage')} className="nowrap">
              {h.seconds_in_stage != null && h.from_stage ? humanDuration(h.seconds_in_stage, locale) : h === last ? <span className="muted">{t('funnel.deal.hist.now', { d: humanDuration(secondsSince(h.changed_at), locale) })}</span> : '—'}
            </td>
            <td data-label={t('funnel.deal.hist.by')}>{userName(h.changed_by)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
