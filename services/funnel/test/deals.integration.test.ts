/**
 * DealService on the real engines over gRPC: create (defaults, idempotency keys, one deal per request
 * under concurrency), bad input refused with nothing written, moves through the state machine with its
 * guards and lost reasons, reopen, checklists, updates, history, who sees what, lists, the board, and
 * linking requests. The random walks over pipelines (history and Kafka exactly once) are
 * deals-walk.integration.test.ts.
 */
import { DealUpdated } from '@crm/contracts/crm/funnel/events/v1/deal_events';
import { DealState, ListDealsRequest, SalesChannel, UpdateDealRequest, type Deal } from '@crm/contracts/crm/funnel/v1/deals';
import { uuidv7 } from '@crm/db';
import { status, type TenantContext } from '@crm/grpc';
import { addVersion, analyst, openTotalsDrift, deal, details, head, reason, salesPipeline, seedPipeline, seller, st, OPEN, WON, LOST, violations } from './deal-fixtures';
import { adminOf, failure, startFunnelHarness, type FunnelHarness } from './harness';

jest.setTimeout(60_000);

let h: FunnelHarness;
let admin: TenantContext;
let pipelineId: string;

beforeAll(async () => {
  h = await startFunnelHarness('deals');
  admin = adminOf();
  pipelineId = await seedPipeline(h, admin.tenantId, salesPipeline());
});

afterAll(async () => {
  await h?.stop();
});

afterEach(async () => {
  // Whatever a test did to deals, the board's totals kept by the trigger still agree with them.
  const drift = await openTotalsDrift(h, admin.tenantId);
  expect(drift.kept).toEqual(drift.live);
});

const count = async (sql: string, params: unknown[] = []): Promise<number> => Number((await h.sql<{ n: string }>(sql, params))[0]!.n);
const dealsOf = (tenantId: string) => count('SELECT count(*) AS n FROM deals WHERE tenant_id = ?', [tenantId]);
const eventsOf = (dealId: string, type?: string) =>
  count(`SELECT count(*) AS n FROM outbox WHERE subject = ?${type ? ' AND event_type = ?' : ''}`, type ? [dealId, type] : [dealId]);

async function makeDeal(over: Parameters<typeof deal>[1] = {}, ctx: TenantContext = admin, pid = pipelineId): Promise<Deal> {
  return (await h.deals.createDeal(deal(pid, over), ctx)).deal!;
}

/** A deal at `proposal`: qualify's checklist ticked, amount and tier set. */
async function atProposal(ctx: TenantContext = admin): Promise<Deal> {
  const d = await makeDeal({ amountMinor: 500_00, customFields: { tier: 'gold' } }, ctx);
  await h.deals.moveDeal({ id: d.id, toStage: 'qualify', expectedVersion: 0, lostReason: '', comment: '' }, ctx);
  for (const k of ['need', 'budget']) await h.deals.setChecklistItem({ dealId: d.id, itemKey: k, checked: true }, ctx);
  return (await h.deals.moveDeal({ id: d.id, toStage: 'proposal', expectedVersion: 0, lostReason: '', comment: 'sent' }, ctx)).deal!;
}

const upd = (over: Partial<UpdateDealRequest> & { id: string }, ctx: TenantContext = admin) => h.deals.updateDeal(UpdateDealRequest.fromPartial(over), ctx);

const move = (id: string, toStage: string, over: { lostReason?: string; expectedVersion?: number; comment?: string } = {}, ctx: TenantContext = admin) =>
  h.deals.moveDeal({ id, toStage, expectedVersion: over.expectedVersion ?? 0, lostReason: over.lostReason ?? '', comment: over.comment ?? '' }, ctx);

describe('CreateDeal', () => {
  it('opens a deal at the first stage in the default currency, owned by the calling user, with its history and created event', async () => {
    const card = uuidv7();
    const d = await makeDeal({ clientCardId: card, contactIds: [uuidv7()], salesChannel: SalesChannel.SALES_CHANNEL_COLD_SALES, expectedCloseDate: '2030-02-28', customFields: { seats: '7', note: ' hi ' } });
    expect(d).toMatchObject({ stage: 'lead', stageName: 'Lead', state: DealState.DEAL_STATE_OPEN, currency: 'RUB', amountMinor: 0, ownerId: admin.callerId, clientCardId: card, version: 1, pipelineVersion: 1 });
    expect(d.customFields).toEqual({ seats: '7', note: 'hi' });
    expect(d.salesChannel).toBe(SalesChannel.SALES_CHANNEL_COLD_SALES);
    expect(d.expectedCloseDate).toBe('2030-02-28');
    const hist = await h.deals.getDealHistory({ dealId: d.id }, admin);
    expect(hist.changes).toEqual([expect.objectContaining({ seq: 1, kind: 'created', fromStage: '', toStage: 'lead', changedBy: admin.callerId })]);
    expect(await eventsOf(d.id, 'crm.funnel.deal.created.v1')).toBe(1);
  });

  it('starts at a given open stage whose guard holds; a terminal, unknown or guarded stage is refused', async () => {
    expect((await makeDeal({ stage: 'qualify' })).stage).toBe('qualify');
    const before = await dealsOf(admin.tenantId);
    expect((await failure(makeDeal({ stage: 'won' }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(makeDeal({ stage: 'nowhere' }))).code).toBe(status.INVALID_ARGUMENT);
    const guarded = await failure(makeDeal({ stage: 'proposal', amountMinor: 10 }));
    expect(guarded.code).toBe(status.FAILED_PRECONDITION);
    expect(details(guarded)).toEqual({ stage: 'proposal', guard: 'required_fields', missing: ['tier'] });
    expect(await dealsOf(admin.tenantId)).toBe(before);
  });

  it('refuses malformed, oversized and foreign input with INVALID_ARGUMENT or NOT_FOUND, writing nothing', async () => {
    const before = await dealsOf(admin.tenantId);
    const other = adminOf();
    const foreign = await seedPipeline(h, other.tenantId, salesPipeline('Theirs'));
    const archived = await seedPipeline(h, admin.tenantId, salesPipeline('Old'), { archived: true });
    const invalid: [string, Parameters<typeof deal>[1], string?][] = [
      ['pipeline_id', { pipelineId: 'not-a-uuid' }],
      ['title', { title: '' }],
      ['title', { title: 'x'.repeat(201) }],
      ['amount_minor', { amountMinor: 1_000_000_000_000_001 }],
      ['amount_minor', { amountMinor: -1 }],
      ['currency', { currency: 'ZZZ' }],
      ['currency', { currency: 'rubles' }],
      ['client_card_id', { clientCardId: "1' OR 1=1" }],
      ['contact_ids[1]', { contactIds: [uuidv7(), 'x'] }],
      ['owner_id', { ownerId: 'bob' }],
      ['expected_close_date', { expectedCloseDate: '2030-02-30' }],
      ['custom_fields.nope', { customFields: { nope: '1' } }],
      ['custom_fields.tier', { customFields: { tier: 'platinum' } }],
      ['custom_fields.seats', { customFields: { seats: '1.5' } }],
      ['custom_fields.note', { customFields: { note: 'x'.repeat(1001) } }],
      ['idempotency_key', { idempotencyKey: 'k'.repeat(201) }],
      ['origin_request_id', { originRequestId: '123' }],
      ['attribution.utm_source', { attribution: { utmSource: 'x'.repeat(501), utmMedium: '', utmCampaign: '', utmContent: '', utmTerm: '', landingPage: '', channel: '', dialedNumberKind: '' } }],
    ];
    for (const [field, over] of invalid) {
      const err = await failure(makeDeal(over));
      expect([field, err.code]).toEqual([field, status.INVALID_ARGUMENT]);
      expect(violations(err).map((v) => v.field)).toContain(field);
    }
    expect((await failure(makeDeal({}, admin, foreign))).code).toBe(status.NOT_FOUND);
    expect((await failure(makeDeal({}, admin, uuidv7()))).code).toBe(status.NOT_FOUND);
    const arch = await failure(makeDeal({}, admin, archived));
    expect([arch.code, reason(arch)]).toEqual([status.FAILED_PRECONDITION, 'pipeline_archived']);
    expect((await failure(makeDeal({}, analyst(admin.tenantId)))).code).toBe(status.PERMISSION_DENIED);
    expect(await dealsOf(admin.tenantId)).toBe(before);
    expect(await dealsOf(other.tenantId)).toBe(0);
  });

  it('answers the same deal for the same idempotency key and body, refuses the key with another body, and keeps tenants apart', async () => {
    const key = `key-${uuidv7()}`;
    const first = await h.deals.createDeal(deal(pipelineId, { idempotencyKey: key, amountMinor: 100, customFields: { seats: '2', note: 'n' } }), admin);
    const again = await h.deals.createDeal(deal(pipelineId, { idempotencyKey: key, amountMinor: 100, customFields: { note: 'n', seats: '2' } }), admin);
    expect(first.replayed).toBe(false);
    expect(again).toMatchObject({ replayed: true, deal: { id: first.deal!.id } });
    const reused = await failure(h.deals.createDeal(deal(pipelineId, { idempotencyKey: key, amountMinor: 101 }), admin));
    expect([reused.code, reason(reused)]).toEqual([status.FAILED_PRECONDITION, 'idempotency_key_reused']);
    const other = adminOf();
    const theirs = await seedPipeline(h, other.tenantId, salesPipeline());
    const elsewhere = await h.deals.createDeal(deal(theirs, { idempotencyKey: key, amountMinor: 100 }), other);
    expect(elsewhere.replayed).toBe(false);
    expect(await count('SELECT count(*) AS n FROM deals WHERE id = ?', [first.deal!.id])).toBe(1);
    expect(await eventsOf(first.deal!.id, 'crm.funnel.deal.created.v1')).toBe(1);
  });

  it('makes one deal of one request under 10 concurrent creates (any keys), linked once as converted', async () => {
    const requestId = uuidv7();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => h.deals.createDeal(deal(pipelineId, { originRequestId: requestId, idempotencyKey: i % 2 ? `conv-${requestId}` : '' }), admin)),
    );
    const ids = new Set(results.map((r) => r.deal!.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    const [id] = [...ids];
    expect(await count('SELECT count(*) AS n FROM deals WHERE origin_request_id = ?', [requestId])).toBe(1);
    expect(await count("SELECT count(*) AS n FROM deal_requests WHERE request_id = ? AND kind = 'converted'", [requestId])).toBe(1);
    expect(await eventsOf(id!, 'crm.funnel.deal.request_linked.v1')).toBe(1);
    expect(await eventsOf(id!, 'crm.funnel.deal.created.v1')).toBe(1);
    const of = await h.deals.listDealsOfRequest({ requestId }, admin);
    expect(of.deals.map((d) => d.id)).toEqual([id]);
    const got = await h.deals.getDeal({ id: id! }, admin);
    expect(got.requests).toEqual([expect.objectContaining({ requestId, kind: 'converted', linkedBy: admin.callerId })]);
  });
});

describe('MoveDeal and ReopenDeal', () => {
  it('refuses a move the definition forbids with the allowed stages, and unknown stages the same way', async () => {
    const d = await makeDeal();
    for (const to of ['won', 'proposal', 'nowhere', 'lead']) {
      const err = await failure(move(d.id, to));
      expect(err.code).toBe(status.FAILED_PRECONDITION);
      expect(details(err)).toEqual({ stage: to, allowed: ['qualify', 'lost'] });
    }
    expect((await failure(move(d.id, 'Bad Key'))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(move('nope', 'qualify'))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(move(uuidv7(), 'qualify'))).code).toBe(status.NOT_FOUND);
    expect((await h.deals.getDeal({ id: d.id }, admin)).deal!.version).toBe(1);
  });

  it('checks the target guard: required fields, then the checklist of the stage left', async () => {
    const d = await makeDeal();
    await move(d.id, 'qualify');
    const fields = await failure(move(d.id, 'proposal'));
    expect(details(fields)).toEqual({ stage: 'proposal', guard: 'required_fields', missing: ['amount', 'tier'] });
    await upd({ id: d.id, amountMinor: 10, customFields: { tier: 'silver' } });
    const list = await failure(move(d.id, 'proposal'));
    expect(details(list)).toEqual({ stage: 'proposal', guard: 'checklist_complete', missing: ['need', 'budget'] });
    await h.deals.setChecklistItem({ dealId: d.id, itemKey: 'budget', checked: true }, admin);
    expect(details(await failure(move(d.id, 'proposal')))).toMatchObject({ missing: ['need'] });
    await h.deals.setChecklistItem({ dealId: d.id, itemKey: 'need', checked: true }, admin);
    const moved = (await move(d.id, 'proposal', { comment: 'all set' })).deal!;
    expect(moved).toMatchObject({ stage: 'proposal', stageName: 'Proposal', state: DealState.DEAL_STATE_OPEN });
    const wonRefused = await failure(move(d.id, 'won'));
    expect(details(wonRefused)).toEqual({ stage: 'won', guard: 'required_fields', missing: ['client_card_id'] });
  });

  it('needs a lost reason from the list; lost and won set state and closed_at; a closed deal moves only by reopening', async () => {
    const d = await makeDeal();
    expect((await failure(move(d.id, 'lost'))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(move(d.id, 'lost', { lostReason: 'Weather' }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(move(d.id, 'qualify', { lostReason: 'Too expensive' }))).code).toBe(status.INVALID_ARGUMENT);
    const lost = (await move(d.id, 'lost', { lostReason: 'Too expensive' })).deal!;
    expect(lost).toMatchObject({ state: DealState.DEAL_STATE_LOST, lostReason: 'Too expensive', version: 2 });
    expect(lost.closedAt).not.toBe('');
    expect(details(await failure(move(d.id, 'lead')))).toEqual({ stage: 'lead', allowed: [] });
    const openErr = await failure(h.deals.reopenDeal({ id: (await makeDeal()).id, toStage: '', comment: '', expectedVersion: 0 }, admin));
    expect([openErr.code, reason(openErr)]).toEqual([status.FAILED_PRECONDITION, 'deal_open']);
    expect((await failure(h.deals.reopenDeal({ id: d.id, toStage: 'won', comment: '', expectedVersion: 0 }, admin))).code).toBe(status.FAILED_PRECONDITION);
    const reopened = (await h.deals.reopenDeal({ id: d.id, toStage: 'qualify', comment: 'came back', expectedVersion: 2 }, admin)).deal!;
    expect(reopened).toMatchObject({ stage: 'qualify', state: DealState.DEAL_STATE_OPEN, lostReason: '', closedAt: '', version: 3 });
    const kinds = (await h.deals.getDealHistory({ dealId: d.id }, admin)).changes.map((c) => [c.seq, c.kind, c.fromStage, c.toStage, c.lostReason, c.comment]);
    expect(kinds).toEqual([
      [1, 'created', '', 'lead', '', ''],
      [2, 'lost', 'lead', 'lost', 'Too expensive', ''],
      [3, 'reopened', 'lost', 'qualify', '', 'came back'],
    ]);
    expect(await eventsOf(d.id, 'crm.funnel.deal.lost.v1')).toBe(1);
    expect(await eventsOf(d.id, 'crm.funnel.deal.reopened.v1')).toBe(1);

    const w = await atProposal();
    await upd({ id: w.id, clientCardId: uuidv7(), contactIds: [], setContactIds: false, expectedVersion: 0 });
    const won = (await move(w.id, 'won')).deal!;
    expect(won.state).toBe(DealState.DEAL_STATE_WON);
    expect(await eventsOf(w.id, 'crm.funnel.deal.won.v1')).toBe(1);
    expect(await eventsOf(w.id, 'crm.funnel.deal.stage_changed.v1')).toBe(2);
  });

  it('answers ABORTED with the current deal when expected_version is stale', async () => {
    const d = await makeDeal();
    await move(d.id, 'qualify');
    const err = await failure(move(d.id, 'lead', { expectedVersion: 1 }));
    expect(err.code).toBe(status.ABORTED);
    expect(JSON.parse(details(err).current as string)).toMatchObject({ id: d.id, stage: 'qualify', version: 2 });
  });
});

describe('checklists, updates, history', () => {
  it('ticks only items of the current stage and keeps who and when; a repeat changes nothing', async () => {
    const d = await makeDeal();
    expect((await failure(h.deals.setChecklistItem({ dealId: d.id, itemKey: 'need', checked: true }, admin))).code).toBe(status.NOT_FOUND);
    await move(d.id, 'qualify');
    expect((await failure(h.deals.setChecklistItem({ dealId: d.id, itemKey: 'nope', checked: true }, admin))).code).toBe(status.NOT_FOUND);
    expect((await failure(h.deals.setChecklistItem({ dealId: d.id, itemKey: 'NOPE!', checked: true }, admin))).code).toBe(status.INVALID_ARGUMENT);
    const ticked = (await h.deals.setChecklistItem({ dealId: d.id, itemKey: 'need', checked: true }, admin)).deal!;
    expect(ticked.checklist).toEqual([
      expect.objectContaining({ key: 'need', text: 'Learn the need', checked: true, checkedBy: admin.callerId }),
      expect.objectContaining({ key: 'budget', checked: false, checkedBy: '', checkedAt: '' }),
    ]);
    const again = (await h.deals.setChecklistItem({ dealId: d.id, itemKey: 'need', checked: true }, admin)).deal!;
    expect(again.version).toBe(ticked.version);
    expect(again.checklist[0]!.checkedAt).toBe(ticked.checklist[0]!.checkedAt);
    const unticked = (await h.deals.setChecklistItem({ dealId: d.id, itemKey: 'need', checked: false }, admin)).deal!;
    expect(unticked.checklist[0]!.checked).toBe(false);
    expect(await eventsOf(d.id, 'crm.funnel.deal.updated.v1')).toBe(2);
  });

  it('changes only the fields that are set, names them in the updated event, and refuses bad values whole', async () => {
    const d = await makeDeal({ customFields: { note: 'a', seats: '3' }, amountMinor: 5 });
    const u = (
      await upd({ id: d.id, title: 'Новое имя', amountMinor: 5, currency: 'usd', customFields: { note: '', tier: 'gold' }, expectedVersion: 1 })
    ).deal!;
    expect(u).toMatchObject({ title: 'Новое имя', currency: 'USD', amountMinor: 5, version: 2, customFields: { seats: '3', tier: 'gold' } });
    const [ev] = await h.sql<{ payload: Buffer }>("SELECT payload FROM outbox WHERE subject = ? AND event_type = 'crm.funnel.deal.updated.v1'", [d.id]);
    expect(DealUpdated.decode(ev!.payload).changed.sort()).toEqual(['currency', 'custom_fields.note', 'custom_fields.tier', 'title']);
    const same = (await upd({ id: d.id, title: 'Новое имя', contactIds: [], setContactIds: false, expectedVersion: 0 })).deal!;
    expect(same.version).toBe(2);
    for (const bad of [{ title: '' }, { amountMinor: -5 }, { currency: 'XXX' }, { customFields: { tier: 'bronze' } }, { ownerId: 'x' }, { expectedCloseDate: '2020-13-01' }]) {
      expect((await failure(upd({ id: d.id, contactIds: [], setContactIds: false, expectedVersion: 0, ...bad }))).code).toBe(status.INVALID_ARGUMENT);
    }
    expect((await failure(upd({ id: d.id, title: 'x', contactIds: [], setContactIds: false, expectedVersion: 1 }))).code).toBe(status.ABORTED);
    expect((await h.deals.getDeal({ id: d.id }, admin)).deal!.version).toBe(2);
  });

  it('counts the seconds spent in the stage left', async () => {
    const d = await makeDeal();
    await h.sql("UPDATE deals SET stage_entered_at = now() - interval '90 seconds' WHERE id = ?", [d.id]);
    await move(d.id, 'qualify');
    const [, moved] = (await h.deals.getDealHistory({ dealId: d.id }, admin)).changes;
    expect(moved!.secondsInStage).toBeGreaterThanOrEqual(89);
    expect(moved!.secondsInStage).toBeLessThan(200);
  });
});

describe('who sees what, lists and the board', () => {
  const tenant = adminOf();
  const deptA = uuidv7();
  const deptB = uuidv7();
  const ann = uuidv7();
  const bob = uuidv7();
  let pid: string;
  let mine: Deal;
  let teams: Deal;
  let bobs: Deal;
  let nobodys: Deal;

  beforeAll(async () => {
    pid = await seedPipeline(h, tenant.tenantId, salesPipeline());
    mine = await makeDeal({ title: 'Ёлки для офиса', amountMinor: 100 }, seller(tenant.tenantId, ann), pid);
    teams = await makeDeal({ title: 'Серверы для ОФИСА', ownerId: bob, departmentId: deptA, amountMinor: 250, currency: 'USD' }, tenant, pid);
    bobs = await makeDeal({ title: 'Ноутбуки', ownerId: bob, departmentId: deptB, amountMinor: 300 }, tenant, pid);
    nobodys = await makeDeal({ title: 'Мебель', ownerId: bob, amountMinor: 7 }, tenant, pid);
  });

  it('a seller sees their own and their departments’ deals; a head also the deals of no department', async () => {
    const ann$ = seller(tenant.tenantId, ann, [deptA]);
    const listed = await h.deals.listDeals(ListDealsRequest.fromPartial({ pipelineId: pid }), ann$);
    expect(listed.deals.map((d) => d.id).sort()).toEqual([mine.id, teams.id].sort());
    expect((await failure(h.deals.getDeal({ id: bobs.id }, ann$))).code).toBe(status.NOT_FOUND);
    expect((await failure(move(bobs.id, 'qualify', {}, ann$))).code).toBe(status.NOT_FOUND);
    expect((await failure(h.deals.getDealHistory({ dealId: nobodys.id }, ann$))).code).toBe(status.NOT_FOUND);
    const boss = head(tenant.tenantId, uuidv7(), [deptB]);
    const seen = await h.deals.listDeals(ListDealsRequest.fromPartial({ pipelineId: pid }), boss);
    expect(seen.deals.map((d) => d.id).sort()).toEqual([mine.id, bobs.id, nobodys.id].sort());
    const board = await h.deals.getBoard({ pipelineId: pid, pageSize: 0, closedDays: 0, filter: undefined }, ann$);
    const lead = board.columns.find((c) => c.stage === 'lead')!;
    expect(lead.count).toBe(2);
    expect(lead.totals).toEqual([
      { currency: 'RUB', amountMinor: 100 },
      { currency: 'USD', amountMinor: 250 },
    ]);
    expect((await failure(h.deals.getDeal({ id: mine.id }, adminOf()))).code).toBe(status.NOT_FOUND);
  });

  it('searches titles by every word, case-insensitively (Cyrillic, ё = е), filters, and pages with a cursor', async () => {
    const q = async (text: string) => (await h.deals.listDeals(ListDealsRequest.fromPartial({ pipelineId: pid, q: text }), tenant)).deals.map((d) => d.id).sort();
    expect(await q('офиса')).toEqual([mine.id, teams.id].sort());
    expect(await q('елки ОФИСА')).toEqual([mine.id]);
    expect(await q('100%')).toEqual([]);
    const byOwner = await h.deals.listDeals(ListDealsRequest.fromPartial({ ownerIds: [bob], departmentIds: [deptA, deptB] }), tenant);
    expect(byOwner.deals.map((d) => d.id).sort()).toEqual([teams.id, bobs.id].sort());
    const pages: string[] = [];
    let cursor = '';
    do {
      const p = await h.deals.listDeals(ListDealsRequest.fromPartial({ pipelineId: pid, pageSize: 3, cursor }), tenant);
      pages.push(...p.deals.map((d) => d.id));
      cursor = p.nextCursor;
    } while (cursor);
    expect(pages).toEqual([nobodys.id, bobs.id, teams.id, mine.id]);
    expect((await failure(h.deals.listDeals(ListDealsRequest.fromPartial({ cursor: 'garbage!' }), tenant))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(h.deals.listDeals(ListDealsRequest.fromPartial({ pageSize: 201 }), tenant))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(h.deals.listDeals(ListDealsRequest.fromPartial({ ownerIds: ['x'] }), tenant))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(h.deals.listDeals(ListDealsRequest.fromPartial({ closeFrom: '2020-02-31' }), tenant))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('pages a board column, shows old-version deals under the same key, and keeps closed columns to closed_days', async () => {
    const tiny = adminOf();
    const v1 = { ...salesPipeline('Tiny'), stages: [st('a', OPEN, ['b', 'won', 'lost']), st('b', OPEN, ['won', 'lost']), st('won', WON), st('lost', LOST)] };
    const tp = await seedPipeline(h, tiny.tenantId, v1);
    const made: Deal[] = [];
    for (let i = 0; i < 5; i++) made.push(await makeDeal({ title: `Deal ${i}`, amountMinor: 10 }, tiny, tp));
    await addVersion(h, tiny.tenantId, tp, { ...v1, stages: [st('a', OPEN, ['c', 'won', 'lost'], { name: 'A2' }), st('c', OPEN, ['won', 'lost']), st('won', WON), st('lost', LOST)] });
    const v2deal = await makeDeal({ title: 'New one' }, tiny, tp);
    expect(v2deal.pipelineVersion).toBe(2);
    await move(made[0]!.id, 'won', {}, tiny);
    await move(made[1]!.id, 'lost', { lostReason: 'Too expensive' }, tiny);
    await h.sql("UPDATE deals SET closed_at = now() - interval '40 days' WHERE id = ?", [made[1]!.id]);
    const board = await h.deals.getBoard({ pipelineId: tp, pageSize: 2, closedDays: 0, filter: undefined }, tiny);
    expect(board.pipeline).toMatchObject({ id: tp, version: 2, dealsOnOldVersions: 3 });
    expect(board.columns.map((c) => [c.stage, c.name, c.count])).toEqual([
      ['a', 'A2', 4],
      ['c', 'C', 0],
      ['won', 'Won', 1],
      ['lost', 'Lost', 0],
    ]);
    const a = board.columns[0]!;
    expect(a.deals.map((d) => d.id)).toEqual([v2deal.id, made[4]!.id]);
    const rest = await h.deals.listStageDeals({ pipelineId: tp, stage: 'a', pageSize: 2, cursor: a.nextCursor, closedDays: 0, filter: undefined }, tiny);
    expect(rest.deals.map((d) => d.id)).toEqual([made[3]!.id, made[2]!.id]);
    expect(rest.nextCursor).toBe('');
    const wider = await h.deals.getBoard({ pipelineId: tp, pageSize: 2, closedDays: 60, filter: undefined }, tiny);
    expect(wider.columns.find((c) => c.stage === 'lost')!.count).toBe(1);
    const bad = await failure(h.deals.listStageDeals({ pipelineId: tp, stage: 'won', pageSize: 2, cursor: a.nextCursor, closedDays: 0, filter: undefined }, tiny));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    const filtered = await h.deals.getBoard({ pipelineId: tp, pageSize: 2, closedDays: 0, filter: { q: 'new', ownerIds: [], departmentIds: [], salesChannels: [], projectId: '' } }, tiny);
    expect(filtered.columns[0]!.count).toBe(1);
    expect((await failure(h.deals.getBoard({ pipelineId: tp, pageSize: 101, closedDays: 0, filter: undefined }, tiny))).code).toBe(status.INVALID_ARGUMENT);
    expect((await failure(h.deals.getBoard({ pipelineId: tp, pageSize: 0, closedDays: 0, filter: undefined }, adminOf()))).code).toBe(status.NOT_FOUND);
  });
});

describe('LinkRequest', () => {
  it('attaches a request to an open deal once; another deal or a closed one is refused', async () => {
    const d = await makeDeal();
    const other = await makeDeal();
    const requestId = uuidv7();
    const first = await h.deals.linkRequest({ dealId: d.id, requestId }, admin);
    const again = await h.deals.linkRequest({ dealId: d.id, requestId }, admin);
    expect([first.replayed, again.replayed]).toEqual([false, true]);
    const taken = await failure(h.deals.linkRequest({ dealId: other.id, requestId }, admin));
    expect([taken.code, details(taken)]).toEqual([status.ALREADY_EXISTS, { deal_id: d.id }]);
    await move(other.id, 'lost', { lostReason: 'Chose a competitor' });
    const closed = await failure(h.deals.linkRequest({ dealId: other.id, requestId: uuidv7() }, admin));
    expect([closed.code, reason(closed)]).toEqual([status.FAILED_PRECONDITION, 'deal_closed']);
    expect((await failure(h.deals.linkRequest({ dealId: d.id, requestId: 'r1' }, admin))).code).toBe(status.INVALID_ARGUMENT);
    expect(await eventsOf(d.id, 'crm.funnel.deal.request_linked.v1')).toBe(1);
    const converted = await failure(makeDeal({ originRequestId: requestId }));
    expect(converted.code).toBe(status.ALREADY_EXISTS);
    expect((await h.deals.getDeal({ id: d.id }, admin)).requests).toEqual([expect.objectContaining({ requestId, kind: 'attached' })]);
  });
});
