/**
 * The board `/deals?pipeline=<id>`: one column per stage of the pipeline's current version (name,
 * count, totals per currency and the weighted total when the stage has a probability), deal cards
 * (title, amount, owner, time in the stage), "load more" per column, filters (owner, department, sales
 * channel) kept in the URL. A card is dragged (HTML5 drag and drop) onto another column, or moved with
 * its "Move to…" menu (keyboard): the card moves at once and `POST /v1/deals/{id}/move` decides; a
 * refusal puts it back and says why in `board-error` (the allowed stages, the missing fields or the
 * unticked checklist items). A drop on a lost stage asks the reason first.
 */
import { useCallback, useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { ApiError } from '../../api';
import { ErrorMessage, errorText } from '../../components/ErrorMessage';
import { useI18n, type MessageKey } from '../../i18n';
import { Link, navigate, useLocation } from '../../router';
import { useDirectory } from '../work/hooks';
import { funnelApi, SALES_CHANNELS, type Board, type BoardColumn, type Deal, type Pipeline } from './api';
import { allowedTargets, boardHref, boardQueryOf, columnOf, formatMoney, humanDuration, moveCard, refusalOf, refusalText, replaceCard, secondsSince, weightedTotals, type BoardQuery } from './board';

const DRAG_TYPE = 'application/x-crm-deal';

/** The words a refused move is explained with, in the UI language. */
export function useRefusalWords() {
  const { t } = useI18n();
  return {
    allowed: (names: string) => t('funnel.board.refusal.allowed', { names }),
    noneAllowed: t('funnel.board.refusal.noneAllowed'),
    missingFields: (names: string) => t('funnel.board.refusal.missingFields', { names }),
    missingChecklist: (names: string) => t('funnel.board.refusal.missingChecklist', { names }),
    builtin: (key: string) => {
      const k = `funnel.deal.field.${key}` as MessageKey;
      const text = t(k);
      return text === k ? undefined : text;
    },
  };
}

/** A failed move as the user reads it: what was refused, why in words, and the server's own detail. */
export interface RefusalMessage {
  headline: string;
  words: string;
  detail: string;
}

/** Explains a failed move (409 refusal, 400 bad lost reason, or any other failure) in the UI language. */
export function useExplainRefusal() {
  const { t } = useI18n();
  const words = useRefusalWords();
  return (err: unknown, pipeline: Pipeline | null, fromStage: string, headline: string): RefusalMessage => {
    if (err instanceof ApiError && (err.status === 409 || err.status === 400)) {
      const r = refusalOf(err.problem);
      const said = refusalText(r, pipeline, fromStage, words);
      return { headline, words: said, detail: said ? r.detail : errorText(err, t) };
    }
    return { headline, words: '', detail: errorText(err, t) };
  };
}

/** A refusal in an alert (role=alert): the headline and the words, the server's detail below them. */
export function RefusalAlert({ message, testId, onClose }: { message: RefusalMessage; testId: string; onClose?: () => void }) {
  const { t } = useI18n();
  return (
    <div className="alert refusal" role="alert" data-testid={testId}>
      <div>
        {message.headline && <strong>{message.headline}</strong>} {message.words}
        {message.detail && <div className="refusal-detail">{message.detail}</div>}
      </div>
      {onClose && (
        <button type="button" className="button-secondary" onClick={onClose} aria-label={t('funnel.board.dismiss')}>
          ×
        </button>
      )}
    </div>
  );
}

interface Pending {
  deal: Deal;
  to: string;
}

export function BoardPage() {
  const { t } = useI18n();
  const { search } = useLocation();
  const query = boardQueryOf(search);
  const [pipelines, setPipelines] = useState<Pipeline[] | null>(null);
  const [listError, setListError] = useState<unknown>(null);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    setListError(null);
    funnelApi.listPipelines(ctl.signal).then(
      (items) => setPipelines(items.filter((p) => !p.archived)),
      (err: unknown) => !ctl.signal.aborted && setListError(err),
    );
    return () => ctl.abort();
  }, [reloads]);

  // `/deals` alone opens the first pipeline.
  const first = pipelines?.[0]?.id;
  useEffect(() => {
    if (!query.pipeline && first) navigate(boardHref({ ...query, pipeline: first }), { replace: true });
  }, [query, first]);

  const head = (
    <div className="page-head">
      <h1>{t('funnel.board.title')}</h1>
    </div>
  );
  if (listError !== null)
    return (
      <>
        {head}
        <ErrorMessage error={listError} onRetry={() => setReloads((n) => n + 1)} />
      </>
    );
  if (!pipelines)
    return (
      <>
        {head}
        <p className="page-status" role="status">
          {t('app.loading')}
        </p>
      </>
    );
  if (!pipelines.length)
    return (
      <>
        {head}
        <section className="panel" data-testid="board-empty">
          <p>{t('funnel.board.empty')}</p>
          <Link to="/pipelines">{t('funnel.board.emptyLink')}</Link>
        </section>
      </>
    );
  if (!query.pipeline) return head;
  return <BoardView key={query.pipeline} pipelines={pipelines} query={query} />;
}

function BoardView({ pipelines, query }: { pipelines: Pipeline[]; query: BoardQuery }) {
  const { t, locale } = useI18n();
  const dir = useDirectory();
  const explain = useExplainRefusal();
  const pipelineId = query.pipeline!;
  const filters = { owner_id: query.owner_id, department_id: query.department_id, sales_channel: query.sales_channel };
  const filterKey = JSON.stringify(filters);
  const [board, setBoard] = useState<Board | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [reloads, setReloads] = useState(0);
  const [refusal, setRefusal] = useState<RefusalMessage | null>(null);
  const [dragging, setDragging] = useState<Deal | null>(null);
  const [over, setOver] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [more, setMore] = useState<Record<string, boolean>>({});
  const boardRef = useRef<Board | null>(null);
  boardRef.current = board;

  useEffect(() => {
    const ctl = new AbortController();
    setLoadError(null);
    funnelApi.board(pipelineId, JSON.parse(filterKey) as typeof filters, ctl.signal).then(setBoard, (err: unknown) => !ctl.signal.aborted && setLoadError(err));
    return () => ctl.abort();
  }, [pipelineId, filterKey, reloads]);

  const setFilter = (patch: Partial<BoardQuery>) => navigate(boardHref({ ...query, ...patch }), { replace: true });
  const setColumns = (update: (cols: BoardColumn[]) => BoardColumn[]) => setBoard((b) => (b ? { ...b, columns: update(b.columns) } : b));

  const move = useCallback(
    async (deal: Deal, to: string, lostReason?: string) => {
      const b = boardRef.current;
      if (!b) return;
      const from = columnOf(b.columns, deal.id) ?? deal.stage;
      if (from === to) return;
      setRefusal(null);
      setColumns((cols) => moveCard(cols, deal.id, to));
      try {
        const moved = await funnelApi.move(deal.id, { to_stage: to, lost_reason: lostReason, expected_version: deal.version });
        setColumns((cols) => replaceCard(cols, moved));
      } catch (err) {
        // Back where it was, with the reason.
        setColumns((cols) => moveCard(cols, deal.id, from, deal));
        const toName = b.columns.find((c) => c.stage === to)?.name ?? to;
        setRefusal(explain(err, b.pipeline, from, t('funnel.board.refusal.headline', { title: deal.title, stage: toName })));
      }
    },
    [t, explain],
  );

  const request = (deal: Deal, to: string) => {
    const stage = boardRef.current?.columns.find((c) => c.stage === to);
    if (!stage || stage.stage === (columnOf(boardRef.current!.columns, deal.id) ?? deal.stage)) return;
    if (stage.outcome === 'lost') setPending({ deal, to });
    else void move(deal, to);
  };

  const loadMore = async (col: BoardColumn) => {
    if (!col.next_cursor) return;
    setMore((m) => ({ ...m, [col.stage]: true }));
    try {
      const page = await funnelApi.column(pipelineId, col.stage, filters, col.next_cursor);
      setColumns((cols) =>
        cols.map((c) => {
          if (c.stage !== col.stage) return c;
          const known = new Set(c.items.map((d) => d.id));
          return { ...c, items: [...c.items, ...page.items.filter((d) => !known.has(d.id))], next_cursor: page.next_cursor };
        }),
      );
    } catch (err) {
      setRefusal({ headline: '', words: '', detail: errorText(err, t) });
    } finally {
      setMore((m) => ({ ...m, [col.stage]: false }));
    }
  };

  const pipeline = board?.pipeline ?? pipelines.find((p) => p.id === pipelineId) ?? null;
  const allowed = dragging && pipeline ? new Set(allowedTargets(pipeline, dragging.stage).map((s) => s.key)) : null;
  const userName = (id: string | null) => (id ? (dir.users.find((u) => u.id === id)?.display_name ?? id.slice(0, 8)) : t('funnel.board.noOwner'));

  return (
    <section className="board-page" data-testid="board">
      <div className="page-head">
        <h1>{t('funnel.board.title')}</h1>
      </div>
      <div className="filters board-filters">
        <label className="filter-field">
          <span>{t('funnel.board.pipeline')}</span>
          <select value={pipelineId} onChange={(e) => navigate(boardHref({ ...query, pipeline: e.target.value }))} data-testid="board-pipeline">
            {pipelines.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
            {!pipelines.some((p) => p.id === pipelineId) && <option value={pipelineId}>{pipeline?.name ?? pipelineId}</option>}
          </select>
        </label>
        <label className="filter-field">
          <span>{t('funnel.board.owner')}</span>
          <select value={query.owner_id ?? ''} onChange={(e) => setFilter({ owner_id: e.target.value || undefined })} data-testid="board-filter-owner">
            <option value="">{t('funnel.board.all')}</option>
            {dir.users.map((u) => (
              <option key={u.id} value={u.id}>
                {u.display_name || u.email}
              </option>
            ))}
          </select>
        </label>
        <label className="filter-field">
          <span>{t('funnel.board.department')}</span>
          <select value={query.department_id ?? ''} onChange={(e) => setFilter({ department_id: e.target.value || undefined })} data-testid="board-filter-department">
            <option value="">{t('funnel.board.all')}</option>
            {dir.departments.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <label className="filter-field">
          <span>{t('funnel.board.channel')}</span>
          <select value={query.sales_channel ?? ''} onChange={(e) => setFilter({ sales_channel: e.target.value || undefined })} data-testid="board-filter-channel">
            <option value="">{t('funnel.board.all')}</option>
            {SALES_CHANNELS.map((c) => (
              <option key={c} value={c}>
                {t(`funnel.deal.channel.${c}`)}
              </option>
            ))}
          </select>
        </label>
        <Link to="/pipelines" className="board-pipelines-link">
          {t('funnel.board.pipelines')}
        </Link>
      </div>
      <div className="board-error-slot" aria-live="polite">
        {refusal && <RefusalAlert message={refusal} testId="board-error" onClose={() => setRefusal(null)} />}
      </div>
      {loadError !== null && <ErrorMessage error={loadError} onRetry={() => setReloads((n) => n + 1)} testId="board-load-error" />}
      {!board && loadError === null && (
        <p className="page-status" role="status">
          {t('app.loading')}
        </p>
      )}
      {board && (
        <div className="board" role="list" aria-label={board.pipeline.name}>
          {board.columns.map((col) => {
            const stage = board.pipeline.stages.find((s) => s.key === col.stage);
            const weighted = weightedTotals(col.totals, stage?.probability);
            const canDrop = allowed ? allowed.has(col.stage) : undefined;
            const onDragOver = (e: DragEvent) => {
              if (!dragging && !e.dataTransfer.types.includes(DRAG_TYPE)) return;
              e.preventDefault();
              e.dataTransfer.dropEffect = 'move';
              if (over !== col.stage) setOver(col.stage);
            };
            const onDrop = (e: DragEvent) => {
              e.preventDefault();
              setOver(null);
              const id = e.dataTransfer.getData(DRAG_TYPE) || e.dataTransfer.getData('text/plain') || dragging?.id;
              const deal = board.columns.flatMap((c) => c.items).find((d) => d.id === id);
              setDragging(null);
              if (deal) request(deal, col.stage);
            };
            return (
              <section
                key={col.stage}
                role="listitem"
                className={`board-column outcome-${col.outcome}${over === col.stage ? ' drop-over' : ''}${canDrop === true ? ' drop-allowed' : canDrop === false && dragging?.stage !== col.stage ? ' drop-forbidden' : ''}`}
                data-testid="board-column"
                data-stage={col.stage}
                aria-labelledby={`col-${col.stage}`}
                onDragOver={onDragOver}
                onDragLeave={(e) => {
                  if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver((o) => (o === col.stage ? null : o));
                }}
                onDrop={onDrop}
              >
                <header className="board-column-head">
                  <h2 id={`col-${col.stage}`}>{col.name}</h2>
                  <span className="badge" data-testid="column-count" data-value={col.count} aria-label={t('funnel.board.count', { n: col.count })}>
                    {col.count}
                  </span>
                </header>
                <div className="board-column-total" data-testid="column-total">
                  {col.totals.length ? col.totals.map((m) => <div key={m.currency}>{formatMoney(m.amount_minor, m.currency, intlLocale(locale))}</div>) : <span className="muted">—</span>}
                  {weighted && weighted.some((m) => m.amount_minor > 0) && (
                    <div className="muted" data-testid="column-weighted" title={t('funnel.board.weightedHint')}>
                      {t('funnel.board.weighted', { p: stage!.probability })}: {weighted.map((m) => formatMoney(m.amount_minor, m.currency, intlLocale(locale))).join(' + ')}
                    </div>
                  )}
                </div>
                <ol className="board-cards">
                  {col.items.map((deal) => (
                    <DealCard
                      key={deal.id}
                      deal={deal}
                      pipeline={board.pipeline}
                      owner={userName(deal.owner_id)}
                      dragging={dragging?.id === deal.id}
                      onDragStart={(e) => {
                        e.dataTransfer.setData(DRAG_TYPE, deal.id);
                        e.dataTransfer.setData('text/plain', deal.id);
                        e.dataTransfer.effectAllowed = 'move';
                        setDragging(deal);
                      }}
                      onDragEnd={() => {
                        setDragging(null);
                        setOver(null);
                      }}
                      onMove={(to) => request(deal, to)}
                    />
                  ))}
                </ol>
                {col.next_cursor && (
                  <button type="button" className="button-secondary button-small" onClick={() => void loadMore(col)} disabled={more[col.stage]} data-testid="column-more">
                    {more[col.stage] ? t('app.loading') : t('funnel.board.more', { n: col.count - col.items.length })}
                  </button>
                )}
              </section>
            );
          })}
        </div>
      )}
      {pending && board && (
        <LostDialog
          reasons={board.pipeline.lost_reasons}
          stage={board.columns.find((c) => c.stage === pending.to)?.name ?? pending.to}
          title={pending.deal.title}
          onCancel={() => setPending(null)}
          onConfirm={(reason) => {
            setPending(null);
            void move(pending.deal, pending.to, reason);
          }}
        />
      )}
      <p className="muted board-hint">{t('funnel.board.hint')}</p>
    </section>
  );
}

/** The UI language as Intl wants it. */
export function intlLocale(locale: string): string {
  return locale === 'ru' ? 'ru-RU' : 'en-GB';
}

function DealCard({
  deal,
  pipeline,
  owner,
  dragging,
  onDragStart,
  onDragEnd,
  onMove,
}: {
  deal: Deal;
  pipeline: Pipeline;
  owner: string;
  dragging: boolean;
  onDragStart: (e: DragEvent) => void;
  onDragEnd: () => void;
  onMove: (to: string) => void;
}) {
  const { t, locale } = useI18n();
  const targets = allowedTargets(pipeline, deal.stage);
  const age = humanDuration(secondsSince(deal.stage_entered_at), locale);
  return (
    <li className={`deal-card${dragging ? ' dragging' : ''}`} draggable data-testid="deal-card" data-deal-id={deal.id} data-stage={deal.stage} onDragStart={onDragStart} onDragEnd={onDragEnd}>
      <Link to={`/deals/${deal.id}`} className="deal-card-title" draggable={false}>
        {deal.title}
      </Link>
      <div className="deal-card-amount">{formatMoney(deal.amount_minor, deal.currency, intlLocale(locale))}</div>
      <div className="deal-card-meta muted">
        <span data-testid="deal-card-owner">{owner}</span>
        <span title={t('funnel.board.ageHint')} data-testid="deal-card-age">
          {age}
        </span>
      </div>
      {deal.state === 'open' && targets.length > 0 && (
        <label className="deal-card-move">
          <span className="visually-hidden">{t('funnel.board.moveTo')}</span>
          <select
            value=""
            onChange={(e) => {
              if (e.target.value) onMove(e.target.value);
            }}
            data-testid="deal-card-move"
          >
            <option value="">{t('funnel.board.moveTo')}</option>
            {targets.map((s) => (
              <option key={s.key} value={s.key}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
      )}
    </li>
  );
}

/** Asks for the lost reason (one of the pipeline's) before a deal is moved to a lost stage. */
export function LostDialog({ reasons, stage, title, onCancel, onConfirm }: { reasons: string[]; stage: string; title: string; onCancel: () => void; onConfirm: (reason: string) => void }) {
  const { t } = useI18n();
  const [reason, setReason] = useState(reasons[0] ?? '');
  const selectRef = useRef<HTMLSelectElement>(null);
  useEffect(() => {
    selectRef.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onCancel();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onCancel]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (reason) onConfirm(reason);
  };
  return (
    <div className="modal-backdrop">
      <form className="panel modal" role="dialog" aria-modal="true" aria-labelledby="lost-title" onSubmit={submit} data-testid="board-lost-dialog">
        <h2 id="lost-title">{t('funnel.board.lost.title', { stage })}</h2>
        <p className="muted">{title}</p>
        <div className="field">
          <label htmlFor="board-lost-reason">{t('funnel.board.lost.reason')}</label>
          <select id="board-lost-reason" ref={selectRef} value={reason} onChange={(e) => setReason(e.target.value)} data-testid="board-lost-reason">
            {reasons.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={!reason} data-testid="board-lost-submit">
            {t('funnel.board.lost.confirm')}
          </button>
          <button type="button" className="button-secondary" onClick={onCancel}>
            {t('funnel.board.lost.cancel')}
          </button>
        </div>
      </form>
    </div>
  );
}
