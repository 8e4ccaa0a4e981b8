/**
 * One request: its state and the actions it allows (features/work/actions.tsx), who has it and where,
 * its five classification axes (meaning and qualification editable), contact, message, attribution,
 * history, follow-up tasks and the comments (oldest first) with a form to add one. Changes made
 * elsewhere (comments, any change of the request) appear through the live feed; every change is sent
 * with the version shown, and a 412 shows the request as it is now instead of overwriting it. Drafts
 * (comment, trash reason, revisit date, task) are kept in sessionStorage over a reload.
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError, type Comment, type CrmRequest, type Me } from '../api';
import { RequestDeal } from '../features/funnel/RequestDeal';
import { CallButton } from '../features/telephony/CallButton';
import { RequestActions } from '../features/work/actions';
import type { WorkRequest } from '../features/work/api';
import { useDirectory, useDraft } from '../features/work/hooks';
import { AxesEditor, History, RequestTasks, WorkSummary } from '../features/work/RequestWork';
import { ErrorMessage } from '../components/ErrorMessage';
import { useI18n, type EnumKind, type MessageKey } from '../i18n';
import { useLiveEvents } from '../live';
import { Link } from '../router';

export const COMMENT_MAX = 4000;

type Loaded = { status: 'loading' } | { status: 'missing' } | { status: 'error'; error: unknown } | { status: 'ready'; request: WorkRequest; comments: Comment[] };

const AXES: { key: keyof CrmRequest['axes']; label: MessageKey; kind: EnumKind }[] = [
  { key: 'number', label: 'axis.number', kind: 'number' },
  { key: 'meaning', label: 'axis.meaning', kind: 'meaning' },
  { key: 'contact', label: 'axis.contact', kind: 'contact' },
  { key: 'qualification', label: 'axis.qualification', kind: 'qualification' },
  { key: 'channel', label: 'axis.channel', kind: 'channel' },
];

const UTM = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term'] as const;

function byTime(a: Comment, b: Comment): number {
  return Date.parse(a.created_at) - Date.parse(b.created_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Only http(s) addresses become links (a `javascript:` referrer stays text). */
function SafeUrl({ url }: { url: string }) {
  const { t } = useI18n();
  if (!url) return <span className="muted">{t('empty')}</span>;
  if (/^https?:\/\//i.test(url)) {
    return (
      <a href={url} target="_blank" rel="noreferrer noopener" className="break">
        {url}
      </a>
    );
  }
  return <span className="break">{url}</span>;
}

function Row({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div className="dl-row" data-testid={testId}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

export function RequestPage({ id, me }: { id: string; me: Me }) {
  const { t, tEnum, formatDateTime } = useI18n();
  const [data, setData] = useState<Loaded>({ status: 'loading' });
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    setData({ status: 'loading' });
    Promise.all([api.getRequest(id, ctl.signal), api.listComments(id, ctl.signal)]).then(
      ([request, comments]) => setData({ status: 'ready', request: request as WorkRequest, comments: comments.items }),
      (error: unknown) => {
        if (ctl.signal.aborted) return;
        // A malformed id (400) or another tenant's id (404) is simply "not found".
        if (error instanceof ApiError && (error.status === 404 || error.status === 400)) setData({ status: 'missing' });
        else setData({ status: 'error', error });
      },
    );
    return () => ctl.abort();
  }, [id, reload]);

  const addComment = (c: Comment) =>
    setData((d) => (d.status === 'ready' && !d.comments.some((x) => x.id === c.id) ? { ...d, comments: [...d.comments, c].sort(byTime) } : d));

  const directory = useDirectory();
  const canWrite = me.scopes.includes('requests:write');
  const [liveNote, setLiveNote] = useState(false);
  // A newer version replaces the one shown (an older one, e.g. an event overtaken by our own answer, does not).
  const setRequest = (next: WorkRequest) =>
    setData((d) => (d.status === 'ready' && next.id === d.request.id && (next.version ?? 0) >= (d.request.version ?? 0) ? { ...d, request: { ...d.request, ...next } } : d));

  useLiveEvents((e) => {
    if (e.type === 'request.commented' && e.comment.request_id === id) addComment(e.comment);
    if (e.type === 'request.updated' && e.request.id === id) {
      const next = e.request as WorkRequest;
      if (data.status === 'ready' && (next.version ?? 0) > (data.request.version ?? 0)) {
        setRequest(next);
        setLiveNote(true);
      }
    }
  });

  useEffect(() => {
    if (data.status === 'ready') document.title = `${data.request.name || t('request.title')} · ${t('app.name')}`;
  }, [data, t]);

  const back = (
    <p className="back">
      <Link to="/requests">{t('request.back')}</Link>
    </p>
  );

  if (data.status === 'loading') {
    return (
      <>
        {back}
        <p className="page-status" role="status">
          {t('request.loading')}
        </p>
      </>
    );
  }
  if (data.status === 'missing') {
    return (
      <>
        {back}
        <section className="panel" data-testid="request-missing">
          <h1>{t('request.notFound')}</h1>
        </section>
      </>
    );
  }
  if (data.status === 'error') {
    return (
      <>
        {back}
        <ErrorMessage error={data.error} onRetry={() => setReload((n) => n + 1)} />
      </>
    );
  }

  const r = data.request;
  const empty = <span className="muted">{t('empty')}</span>;
  return (
    <article className="request" data-testid="request-page" data-id={r.id}>
      {back}
      <div className="page-head">
        <h1 data-testid="request-title">
          {r.name || <span className="muted">{t('journal.noName')}</span>}
        </h1>
        <span className={`badge state state-${r.state}`} data-testid="request-state">
          <span className="visually-hidden">{t('request.state')}: </span>
          {tEnum('state', r.state)}
        </span>
        <span className="muted">
          {t('request.created')}: <time dateTime={r.created_at}>{formatDateTime(r.created_at)}</time>
        </span>
      </div>
      {liveNote && (
        <p className="note" role="status" data-testid="request-live-updated">
          {t('work.liveUpdated')}{' '}
          <button type="button" className="button-link" onClick={() => setLiveNote(false)}>
            {t('work.dismiss')}
          </button>
        </p>
      )}

      {canWrite && <RequestActions request={r} me={me} users={directory.users} departments={directory.departments} onChanged={setRequest} />}
      <RequestDeal request={r} me={me} onChanged={setRequest} />

      <div className="grid">
        <section className="panel" aria-labelledby="axes-title">
          <h2 id="axes-title">{t('request.axes')}</h2>
          <dl className="dl" data-testid="request-axes">
            {AXES.map((a) => (
              <Row key={a.key} label={t(a.label)} testId={`axis-${a.key}`}>
                <span className={`badge ${a.key}-${r.axes[a.key]}`}>{tEnum(a.kind, r.axes[a.key])}</span>
              </Row>
            ))}
            <Row label={t('request.state')} testId="field-state">
              {tEnum('state', r.state)}
            </Row>
          </dl>
          {canWrite && <AxesEditor request={r} onChanged={setRequest} />}
        </section>

        <section className="panel" aria-labelledby="work-title">
          <h2 id="work-title">{t('work.panel')}</h2>
          <WorkSummary request={r} users={directory.users} departments={directory.departments} me={me} />
        </section>

        <section className="panel" aria-labelledby="contact-title">
          <h2 id="contact-title">{t('request.contact')}</h2>
          <dl className="dl" data-testid="request-contact">
            <Row label={t('request.name')} testId="field-name">
              {r.name || empty}
            </Row>
            <Row label={t('request.phone')} testId="field-phone">
              {r.phone ? (
                <>
                  <a href={`tel:${r.phone}`}>{r.phone}</a>
                  <CallButton phone={r.phone} requestId={r.id} contactId={r.contact_id} me={me} />
                </>
              ) : (
                empty
              )}
            </Row>
            <Row label={t('request.email')} testId="field-email">
              {r.email ? (
                <a href={`mailto:${r.email}`} className="break">
                  {r.email}
                </a>
              ) : (
                empty
              )}
            </Row>
            {r.contact_id && (
              <Row label={t('request.contact')} testId="field-contact">
                <Link to={`/contacts/${r.contact_id}`} data-testid="request-contact-link">
                  {t('request.openContact')}
                </Link>
              </Row>
            )}
            <Row label={t('request.created')} testId="field-created">
              <time dateTime={r.created_at}>{formatDateTime(r.created_at)}</time>
            </Row>
            <Row label={t('request.id')}>
              <code className="break">{r.id}</code>
            </Row>
          </dl>
        </section>

        <section className="panel" aria-labelledby="attribution-title">
          <h2 id="attribution-title">{t('request.attribution')}</h2>
          <dl className="dl" data-testid="request-attribution">
            {UTM.map((k) => (
              <Row key={k} label={k} testId={`attr-${k}`}>
                {r.attribution[k] ? <span className="break">{r.attribution[k]}</span> : empty}
              </Row>
            ))}
            <Row label={t('request.landingPage')} testId="attr-landing_page">
              <SafeUrl url={r.attribution.landing_page} />
            </Row>
            <Row label={t('request.referrer')} testId="attr-referrer">
              <SafeUrl url={r.attribution.referrer} />
            </Row>
          </dl>
        </section>
      </div>

      <section className="panel" aria-labelledby="message-title">
        <h2 id="message-title">{t('request.message')}</h2>
        {r.message ? (
          <p className="message" data-testid="request-message">
            {r.message}
          </p>
        ) : (
          <p className="muted">{t('request.noMessage')}</p>
        )}
      </section>

      {(r.extra_fields.length > 0 || r.extra_fields_truncated) && (
        <section className="panel" aria-labelledby="extra-title">
          <h2 id="extra-title">{t('request.extraFields')}</h2>
          <dl className="dl" data-testid="request-extra-fields">
            {r.extra_fields.map((f, i) => (
              <Row key={`${i}:${f.key}`} label={f.key} testId="extra-field">
                <span className="break">{f.value}</span>
              </Row>
            ))}
          </dl>
          {r.extra_fields_truncated && (
            <p className="muted" data-testid="extra-fields-truncated">
              {t('request.extraFieldsTruncated')}
            </p>
          )}
        </section>
      )}

      <div className="grid-2">
        <History request={r} users={directory.users} departments={directory.departments} me={me} />
        {me.scopes.includes('tasks:read') && <RequestTasks request={r} />}
      </div>

      <Comments requestId={r.id} comments={data.comments} me={me} onAdded={addComment} />
    </article>
  );
}

function Comments({ requestId, comments, me, onAdded }: { requestId: string; comments: Comment[]; me: Me; onAdded: (c: Comment) => void }) {
  const { t, formatDateTime } = useI18n();
  // The text typed survives a reload of the page (sessionStorage), until it is sent.
  const [text, setText, clearText] = useDraft(`comment.${requestId}`, '');
  const [invalid, setInvalid] = useState<string>('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const length = Array.from(text.trim()).length;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (length === 0) return setInvalid(t('comments.required'));
    if (length > COMMENT_MAX) return setInvalid(t('comments.tooLong', { max: COMMENT_MAX, n: length }));
    setInvalid('');
    setBusy(true);
    try {
      onAdded(await api.addComment(requestId, text.trim()));
      clearText();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="comments-title">
      <h2 id="comments-title">
        {t('comments.title')} <span className="count" data-testid="comments-count">{comments.length}</span>
      </h2>
      {comments.length === 0 ? (
        <p className="muted" data-testid="comments-empty">
          {t('comments.empty')}
        </p>
      ) : (
        <ol className="comments" data-testid="comments">
          {comments.map((c) => (
            <li key={c.id} className="comment" data-testid="comment">
              <div className="comment-meta">
                <strong>{c.author_id === me.subject_id ? t('comments.you') : t('comments.colleague', { id: c.author_id.slice(-6) })}</strong>
                <time dateTime={c.created_at}>{formatDateTime(c.created_at)}</time>
              </div>
              <p className="comment-text">{c.text}</p>
            </li>
          ))}
        </ol>
      )}
      <form className="comment-form" onSubmit={submit} noValidate data-testid="comment-form">
        <label htmlFor="comment-text">{t('comments.new')}</label>
        <textarea
          id="comment-text"
          rows={3}
          value={text}
          aria-invalid={invalid ? true : undefined}
          aria-describedby="comment-counter comment-invalid"
          data-testid="comment-text"
          onChange={(e) => {
            setText(e.target.value);
            if (invalid) setInvalid('');
          }}
        />
        <div className="comment-form-foot">
          <span id="comment-counter" className={length > COMMENT_MAX ? 'counter over' : 'counter'}>
            {t('comments.counter', { n: length, max: COMMENT_MAX })}
          </span>
          <button type="submit" className="button-primary" disabled={busy} data-testid="comment-submit">
            {busy ? t('comments.busy') : t('comments.add')}
          </button>
        </div>
        <p id="comment-invalid" className="field-error" role={invalid ? 'alert' : undefined} data-testid="comment-invalid">
          {invalid}
        </p>
        {error !== null && <ErrorMessage error={error} />}
      </form>
    </section>
  );
}
