/**
 * The funnel's REST API through the gateway, over real HTTP, in front of real identity, intake, contacts
 * and funnel (real gRPC, PostgreSQL, Kafka): pipelines (a broken definition is a 400 listing every
 * violation; a stale version a 412 with `current`), deals with an Idempotency-Key (a replay 200, another
 * body 422), moves through the state machine (allowed; forbidden: 409 with the allowed stages; a guard:
 * 409 with what is missing; lost without its reason: 400), the checklist, the history, the board (counts,
 * totals per currency, a column paged, filters), what a seller sees, bad bodies (400/413), and another
 * tenant (404 on everything of A's).
 */
import { IdentityServiceService } from '@crm/contracts/crm/identity/v1/identity';
import { createClient } from '@crm/grpc';
import { startPlatform, type Platform } from '../support/platform';
import { client, makeWorkTeam, type As, type Res, type WorkTeam } from '../support/work-team';

const SCOPES = ['requests:read', 'requests:write', 'contacts:read', 'contacts:write', 'deals:read', 'deals:write', 'pipelines:write'];

let platform: Platform;
let team: WorkTeam;
let send: ReturnType<typeof client>['send'];
const as = { a: { key: '' } as As, b: { key: '' } as As };

const definition = (name: string) => ({
  name,
  default_currency: 'RUB',
  lost_reasons: ['Дорого', 'Выбрали конкурента'],
  fields: [{ key: 'budget_source', label: 'Источник бюджета', type: 'text' }],
  stages: [
    { key: 'new', name: 'Новая', outcome: 'open', to: ['qualification', 'lost'], checklist: [{ key: 'need', text: 'Выяснить потребность' }], probability: 10 },
    { key: 'qualification', name: 'Квалификация', outcome: 'open', to: ['proposal', 'lost'], guard: { checklist_complete: true }, probability: 30 },
    { key: 'proposal', name: 'Предложение', outcome: 'open', to: ['won', 'lost', 'qualification'], guard: { required_fields: ['budget_source'] }, probability: 60 },
    { key: 'won', name: 'Выиграна', outcome: 'won' },
    { key: 'lost', name: 'Проиграна', outcome: 'lost' },
  ],
});

function ok(res: Res, status = 200) {
  expect({ status: res.status, body: res.body }).toMatchObject({ status });
  return res.body;
}

function refused(res: Res, status: number) {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { status } });
  expect(res.type).toContain('application/problem+json');
  return res.body;
}

let pipeline: { id: string; version: number };

beforeAll(async () => {
  platform = await startPlatform({ gatewayEnv: { API_RATE_PER_CREDENTIAL: '100000' } });
  send = client(platform.base).send;
  const identity = createClient(IdentityServiceService, { address: platform.identityAddr });
  try {
    for (const t of ['a', 'b'] as const) {
      const ctx = { tenantId: platform.tenants[t].id, callerId: 'e2e', callerKind: 'service' as const };
      as[t] = { key: (await identity.createApiKey({ name: 'funnel', scopes: SCOPES }, ctx)).secret };
    }
  } finally {
    identity.close();
  }
  team = await makeWorkTeam(platform);
  pipeline = ok(await send('POST', '/v1/pipelines', as.a, definition('Продажи')), 201);
});

afterAll(async () => {
  await platform?.stop();
});

const newDeal = async (body: Record<string, unknown> = {}, who: As = as.a) => ok(await send('POST', '/v1/deals', who, { pipeline_id: pipeline.id, title: 'Сделка', ...body }), 201);

describe('pipelines', () => {
  it('refuses a broken definition with every violation, validates as the editor types, stores versions', async () => {
    const broken = definition('Сломанная');
    broken.stages[0].to = ['nowhere', 'lost'];
    broken.stages[3] = { ...broken.stages[3], outcome: 'open' };
    const res = refused(await send('POST', '/v1/pipelines', as.a, broken), 400);
    expect(res.code).toBe('INVALID_ARGUMENT');
    expect(res.violations).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'stages[0].to[0]', code: 'unknown_stage' })]));
    expect(res.violations.length).toBeGreaterThan(1);
    for (const v of res.violations) expect(v).toEqual({ field: expect.any(String), code: expect.any(String), message: expect.any(String) });
    const checked = ok(await send('POST', '/v1/pipelines/validate', as.a, broken));
    expect(checked.violations.map((v: { code: string }) => v.code).sort()).toEqual(res.violations.map((v: { code: string }) => v.code).sort());
    expect(ok(await send('POST', '/v1/pipelines/validate', as.a, definition('Годная'))).violations).toEqual([]);
    // Nothing was written.
    expect(ok(await send('GET', '/v1/pipelines', as.a)).items.map((p: { name: string }) => p.name)).toEqual(['Продажи']);

    // The schema's own refusals: a wrong type, an unknown member, too many stages.
    refused(await send('POST', '/v1/pipelines', as.a, { ...definition('X'), stages: 'new' }), 400);
    refused(await send('POST', '/v1/pipelines', as.a, { ...definition('X'), colour: 'red' }), 400);
    const many = Array.from({ length: 101 }, (_, i) => ({ key: `s${i}`, name: `S${i}`, outcome: 'open', to: [`s${i + 1}`] }));
    refused(await send('POST', '/v1/pipelines/validate', as.a, { name: 'Много', stages: many }), 400);

    const got = ok(await send('GET', `/v1/pipelines/${pipeline.id}`, as.a));
    expect(got).toMatchObject({ id: pipeline.id, version: 1, name: 'Продажи', default_currency: 'RUB', archived: false, deals_on_old_versions: 0 });
    expect(got.stages.map((s: { key: string; outcome: string }) => `${s.key}:${s.outcome}`)).toEqual(['new:open', 'qualification:open', 'proposal:open', 'won:won', 'lost:lost']);
    expect(got.stages[1].guard).toEqual({ required_fields: [], checklist_complete: true });

    const other = ok(await send('POST', '/v1/pipelines', as.a, definition('Партнёры')), 201);
    const v2 = ok(await send('PUT', `/v1/pipelines/${other.id}`, as.a, { expected_version: 1, ...definition('Партнёры'), lost_reasons: ['Дорого'] }));
    expect(v2).toMatchObject({ id: other.id, version: 2, lost_reasons: ['Дорого'] });
    const stale = refused(await send('PUT', `/v1/pipelines/${other.id}`, as.a, { expected_version: 1, ...definition('Партнёры') }), 412);
    expect(stale.current).toMatchObject({ id: other.id, version: 2 });
    expect(ok(await send('GET', `/v1/pipelines/${other.id}?version=1`, as.a)).lost_reasons).toEqual(['Дорого', 'Выбрали конкурента']);
    // A name another pipeline has; then archive it (gone from the list unless asked).
    refused(await send('POST', '/v1/pipelines', as.a, definition('Партнёры')), 409);
    expect(ok(await send('POST', `/v1/pipelines/${other.id}/archive`, as.a, { archived: true })).archived).toBe(true);
    expect(ok(await send('GET', '/v1/pipelines', as.a)).items.map((p: { id: string }) => p.id)).not.toContain(other.id);
    expect(ok(await send('GET', '/v1/pipelines?include_archived=true', as.a)).items.map((p: { id: string }) => p.id)).toContain(other.id);
    // A seller reads pipelines but may not write them.
    expect(ok(await send('GET', '/v1/pipelines', team.sellerA.as)).items.length).toBe(1);
    refused(await send('POST', '/v1/pipelines', team.sellerA.as, definition('Моя')), 403);
  });
});

describe('deals', () => {
  it('creates with an Idempotency-Key: a retry answers the same deal (200), another body under it is a 422', async () => {
    const key = `deal-${Date.now()}`;
    const body = { pipeline_id: pipeline.id, title: 'Поставка оборудования', amount_minor: 125_000_000, currency: 'RUB', sales_channel: 'inbound_leadgen', expected_close_date: '2028-06-30' };
    const first = await send('POST', '/v1/deals', as.a, body, { 'idempotency-key': key });
    const deal = ok(first, 201);
    expect(first.headers.get('location')).toBe(`/v1/deals/${deal.id}`);
    expect(deal).toMatchObject({ title: body.title, amount_minor: 125_000_000, currency: 'RUB', stage: 'new', stage_name: 'Новая', state: 'open', pipeline_version: 1, sales_channel: 'inbound_leadgen', expected_close_date: '2028-06-30', client_card_id: null, lost_reason: null, version: 1 });
    expect(deal.checklist).toEqual([{ key: 'need', text: 'Выяснить потребность', checked: false, checked_by: null, checked_at: null }]);
    const replay = await send('POST', '/v1/deals', as.a, body, { 'idempotency-key': key });
    expect(ok(replay, 200).id).toBe(deal.id);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    refused(await send('POST', '/v1/deals', as.a, { ...body, title: 'Другая' }, { 'idempotency-key': key }), 422);
    expect(ok(await send('GET', `/v1/deals?q=${encodeURIComponent('поставка оборудования')}`, as.a)).items.map((d: { id: string }) => d.id)).toEqual([deal.id]);
  });

  it('refuses bad input with a 4xx and writes nothing', async () => {
    const base = { pipeline_id: pipeline.id, title: 'Плохая' };
    for (const bad of [
      { ...base, amount_minor: 1.5 },
      { ...base, amount_minor: -1 },
      { ...base, amount_minor: 1_000_000_000_000_001 },
      { ...base, amount_minor: '100' },
      { ...base, currency: 'rub' },
      { ...base, title: '   ' },
      { ...base, pipeline_id: 'not-a-uuid' },
      { ...base, sales_channel: 'pigeons' },
      { ...base, colour: 'red' },
      { title: 'без воронки' },
    ]) {
      refused(await send('POST', '/v1/deals', as.a, bad), 400);
    }
    // Rules of the data, not of the schema: an unknown currency, a stage that does not exist.
    refused(await send('POST', '/v1/deals', as.a, { ...base, currency: 'XYZ' }), 400);
    expect((await send('POST', '/v1/deals', as.a, { ...base, stage: 'nowhere' })).status).toBeGreaterThanOrEqual(400);
    refused(await send('POST', '/v1/deals', as.a, '{"pipeline_id": '), 400);
    refused(await send('POST', '/v1/deals', as.a, { ...base, title: 'x'.repeat(200), custom_fields: { budget_source: 'я'.repeat(1000) }, contact_ids: [], x: 'y'.repeat(20_000) }), 413);
    refused(await send('GET', '/v1/deals/not-a-uuid', as.a), 400);
    refused(await send('GET', '/v1/deals?limit=201', as.a), 400);
    refused(await send('GET', '/v1/deals?state=frozen', as.a), 400);
    refused(await send('GET', `/v1/pipelines/${pipeline.id}/board?limit=101`, as.a), 400);
    refused(await send('GET', `/v1/deals/${pipeline.id}`, as.a), 404);
    expect(ok(await send('GET', '/v1/deals?q=%D0%9F%D0%BB%D0%BE%D1%85%D0%B0%D1%8F', as.a)).items).toEqual([]);
  });

  it('moves through the state machine: allowed, forbidden (409 + allowed), guards (409 + missing), lost needs a reason; checklist and history', async () => {
    const deal = await newDeal({ title: 'Путь по воронке', amount_minor: 5000 });
    const move = (body: Record<string, unknown>) => send('POST', `/v1/deals/${deal.id}/move`, as.a, body);

    const forbidden = refused(await move({ to_stage: 'won' }), 409);
    expect(forbidden).toMatchObject({ code: 'FAILED_PRECONDITION', stage: 'won' });
    expect([...forbidden.allowed].sort()).toEqual(['lost', 'qualification']);
    expect(forbidden.detail).toEqual(expect.any(String));

    const guard = refused(await move({ to_stage: 'qualification' }), 409);
    expect(guard).toMatchObject({ stage: 'qualification', guard: 'checklist_complete', missing: ['need'] });

    const ticked = ok(await send('PUT', `/v1/deals/${deal.id}/checklist/need`, team.admin.as, { checked: true }));
    expect(ticked.checklist[0]).toMatchObject({ key: 'need', checked: true, checked_by: team.admin.id, checked_at: expect.any(String) });
    refused(await send('PUT', `/v1/deals/${deal.id}/checklist/nothing_like_it`, as.a, { checked: true }), 404);
    refused(await send('PUT', `/v1/deals/${deal.id}/checklist/need`, as.a, { checked: 'yes' }), 400);

    const moved = ok(await move({ to_stage: 'qualification', comment: 'Потребность ясна', expected_version: ticked.version }));
    expect(moved).toMatchObject({ stage: 'qualification', stage_name: 'Квалификация', state: 'open' });
    const stale = refused(await move({ to_stage: 'proposal', expected_version: ticked.version }), 412);
    expect(stale.current).toMatchObject({ id: deal.id, stage: 'qualification', version: moved.version });

    const needsField = refused(await move({ to_stage: 'proposal' }), 409);
    expect(needsField).toMatchObject({ stage: 'proposal', guard: 'required_fields', missing: ['budget_source'] });
    const patched = ok(await send('PATCH', `/v1/deals/${deal.id}`, as.a, { custom_fields: { budget_source: 'собственные' }, amount_minor: 7000, expected_version: moved.version }));
    expect(patched).toMatchObject({ custom_fields: { budget_source: 'собственные' }, amount_minor: 7000 });
    refused(await send('PATCH', `/v1/deals/${deal.id}`, as.a, { title: 'x', expected_version: moved.version }), 412);
    refused(await send('PATCH', `/v1/deals/${deal.id}`, as.a, { expected_version: patched.version }), 400);
    ok(await move({ to_stage: 'proposal' }));

    refused(await move({ to_stage: 'lost' }), 400);
    refused(await move({ to_stage: 'lost', lost_reason: 'Луна не в той фазе' }), 400);
    const lost = ok(await move({ to_stage: 'lost', lost_reason: 'Дорого' }));
    expect(lost).toMatchObject({ state: 'lost', lost_reason: 'Дорого', closed_at: expect.any(String) });
    refused(await move({ to_stage: 'proposal' }), 409);
    const reopened = ok(await send('POST', `/v1/deals/${deal.id}/reopen`, as.a, { to_stage: 'proposal', comment: 'Вернулся' }));
    expect(reopened).toMatchObject({ state: 'open', stage: 'proposal', lost_reason: null, closed_at: null });
    expect(ok(await move({ to_stage: 'won' }))).toMatchObject({ state: 'won', stage: 'won' });

    const history = ok(await send('GET', `/v1/deals/${deal.id}/history`, as.a)).items;
    expect(history.map((h: { kind: string; to_stage: string }) => `${h.kind}:${h.to_stage}`)).toEqual(['created:new', 'moved:qualification', 'moved:proposal', 'lost:lost', 'reopened:proposal', 'won:won']);
    expect(history.map((h: { seq: number }) => h.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(history[0]).toMatchObject({ from_stage: null, from_stage_name: null, to_stage_name: 'Новая', pipeline_version: 1 });
    expect(history[1]).toMatchObject({ from_stage: 'new', comment: 'Потребность ясна', seconds_in_stage: expect.any(Number) });
    expect(history[3]).toMatchObject({ lost_reason: 'Дорого' });
    const detail = ok(await send('GET', `/v1/deals/${deal.id}`, as.a));
    expect(detail).toMatchObject({ id: deal.id, state: 'won', requests: [] });
  });

  it('the board: a column per stage with counts, totals per currency and paged deals; filters', async () => {
    const p = ok(await send('POST', '/v1/pipelines', as.a, definition('Доска')), 201);
    const made = [];
    for (let i = 0; i < 5; i++) made.push(ok(await send('POST', '/v1/deals', as.a, { pipeline_id: p.id, title: `Доска ${i}`, amount_minor: 100 * (i + 1), sales_channel: i < 2 ? 'cold_sales' : 'agents' }), 201));
    made.push(ok(await send('POST', '/v1/deals', as.a, { pipeline_id: p.id, title: 'Доска USD', amount_minor: 999, currency: 'USD', owner_id: team.sellerB.id }), 201));

    const res = ok(await send('GET', `/v1/pipelines/${p.id}/board?limit=2`, as.a));
    expect(res.pipeline).toMatchObject({ id: p.id, version: 1 });
    expect(res.columns.map((c: { stage: string }) => c.stage)).toEqual(['new', 'qualification', 'proposal', 'won', 'lost']);
    const col = res.columns[0];
    expect(col).toMatchObject({ stage: 'new', name: 'Новая', outcome: 'open', count: 6 });
    expect([...col.totals].sort((x: { currency: string }, y: { currency: string }) => x.currency.localeCompare(y.currency))).toEqual([
      { currency: 'RUB', amount_minor: 1500 },
      { currency: 'USD', amount_minor: 999 },
    ]);
    expect(col.items).toHaveLength(2);
    expect(col.next_cursor).toEqual(expect.any(String));
    expect(res.columns[1]).toMatchObject({ count: 0, totals: [], items: [], next_cursor: null });

    // Page the column to its end: every deal once.
    const seen: string[] = col.items.map((d: { id: string }) => d.id);
    let cursor = col.next_cursor;
    while (cursor) {
      const page = ok(await send('GET', `/v1/pipelines/${p.id}/board/new?limit=2&cursor=${encodeURIComponent(cursor)}`, as.a));
      seen.push(...page.items.map((d: { id: string }) => d.id));
      cursor = page.next_cursor;
    }
    expect(seen.sort()).toEqual(made.map((d) => d.id).sort());
    refused(await send('GET', `/v1/pipelines/${p.id}/board/new?cursor=garbage`, as.a), 400);
    refused(await send('GET', `/v1/pipelines/${p.id}/board/nowhere`, as.a), 400);

    const cold = ok(await send('GET', `/v1/pipelines/${p.id}/board?sales_channel=cold_sales`, as.a)).columns[0];
    expect(cold).toMatchObject({ count: 2, totals: [{ currency: 'RUB', amount_minor: 300 }] });
    const ofSellerB = ok(await send('GET', `/v1/pipelines/${p.id}/board?owner_id=${team.sellerB.id}`, as.a)).columns[0];
    expect(ofSellerB.items.map((d: { id: string }) => d.id)).toEqual([made[5].id]);
    expect(ok(await send('GET', `/v1/deals?pipeline_id=${p.id}&sales_channel=agents&limit=200`, as.a)).items).toHaveLength(3);
  });

  it("a seller sees their own deals, not another department's", async () => {
    const theirs = await newDeal({ title: 'Сделка продавца B', owner_id: team.sellerB.id, department_id: team.depB });
    const mine = ok(await send('POST', '/v1/deals', team.sellerA.as, { pipeline_id: pipeline.id, title: 'Сделка продавца A' }), 201);
    expect(mine.owner_id).toBe(team.sellerA.id);
    refused(await send('GET', `/v1/deals/${theirs.id}`, team.sellerA.as), 404);
    refused(await send('POST', `/v1/deals/${theirs.id}/move`, team.sellerA.as, { to_stage: 'lost', lost_reason: 'Дорого' }), 404);
    const listed = ok(await send('GET', '/v1/deals?limit=200', team.sellerA.as)).items.map((d: { id: string }) => d.id);
    expect(listed).toContain(mine.id);
    expect(listed).not.toContain(theirs.id);
    expect(ok(await send('GET', `/v1/deals/${theirs.id}`, team.sellerB.as)).id).toBe(theirs.id);
  });

  it("another tenant gets a 404 on A's pipeline, deal, board and request, and cannot point at A's records", async () => {
    const deal = await newDeal({ title: 'Только для A' });
    const company = ok(await send('POST', '/v1/companies', as.a, { name: 'ООО «Только A»' }), 201);
    const request = ok(await send('POST', '/v1/requests', as.a, { channel: 'email', email: 'funnel-e2e@example.com' }), 201);
    expect(ok(await send('GET', `/v1/requests/${request.id}/deals`, as.a)).items).toEqual([]);
    for (const [method, path, body] of [
      ['GET', `/v1/pipelines/${pipeline.id}`],
      ['PUT', `/v1/pipelines/${pipeline.id}`, definition('Чужая')],
      ['POST', `/v1/pipelines/${pipeline.id}/archive`, { archived: true }],
      ['GET', `/v1/pipelines/${pipeline.id}/board`],
      ['GET', `/v1/pipelines/${pipeline.id}/board/new`],
      ['GET', `/v1/deals/${deal.id}`],
      ['PATCH', `/v1/deals/${deal.id}`, { title: 'Моя' }],
      ['POST', `/v1/deals/${deal.id}/move`, { to_stage: 'qualification' }],
      ['PUT', `/v1/deals/${deal.id}/checklist/need`, { checked: true }],
      ['GET', `/v1/deals/${deal.id}/history`],
      ['GET', `/v1/requests/${request.id}/deals`],
      ['POST', '/v1/deals', { pipeline_id: pipeline.id, title: 'Чужая воронка' }],
    ] as [string, string, unknown?][]) {
      expect({ method, path, status: (await send(method, path, as.b, body)).status }).toEqual({ method, path, status: 404 });
    }
    const bPipeline = ok(await send('POST', '/v1/pipelines', as.b, definition('Продажи')), 201);
    refused(await send('POST', '/v1/deals', as.b, { pipeline_id: bPipeline.id, title: 'С чужой компанией', company_id: company.id }), 404);
    expect(ok(await send('GET', '/v1/deals', as.b)).items).toEqual([]);
    expect(ok(await send('GET', '/v1/pipelines', as.b)).items.map((p: { id: string }) => p.id)).toEqual([bPipeline.id]);
    // A's deal is as it was.
    expect(ok(await send('GET', `/v1/deals/${deal.id}`, as.a))).toMatchObject({ title: 'Только для A', stage: 'new', version: 1 });
  });
});
