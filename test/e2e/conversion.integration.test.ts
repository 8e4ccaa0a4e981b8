/**
 * From request to deal, exactly once across intake and funnel (gateway/src/routes/conversion.ts, intake's
 * consumer of crm.funnel.deal.v1, contacts' deal links), on the real platform (real gRPC, PostgreSQL, Kafka):
 * - ten concurrent converts of one request make one deal (funnel's database) and a `converted` request
 *   pointing to it; a retry answers 200 with the same deal;
 * - funnel run as its own process behind a second gateway and SIGKILLed while ten converts are in flight:
 *   the failed ones are 503, nothing is half-written, and after a restart on the same database their retries
 *   answer the one deal, the request converted to it;
 * - the crash window between the two writes: the deal created by hand (as if the gateway died right after
 *   CreateDeal) and intake converts the request by itself from funnel's `request_linked`; a later convert
 *   answers 200 with that deal;
 * - attach to a deal and to a client card; a won deal makes the card `active`, a later lost deal on the same
 *   client leaves it `active`, and the client is in the free base once no deal is open (reopened: out again);
 * - bad input: another tenant's request or pipeline (404), malformed bodies (400), a trashed request (409).
 */
import { ClientCardsServiceService } from '@crm/contracts/crm/contacts/v1/cards';
import { CreateDealRequest, DealServiceService } from '@crm/contracts/crm/funnel/v1/deals';
import { PipelineServiceService, StageOutcome, type PipelineDefinition } from '@crm/contracts/crm/funnel/v1/pipelines';
import { IdentityServiceService } from '@crm/contracts/crm/identity/v1/identity';
import { createClient, type TenantContext } from '@crm/grpc';
import type { RunningGateway } from '@crm/gateway/src/server';
import { eventually, freePort, stackUrls } from '@crm/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'pg';
import { startPlatform, startReplica, type Platform } from '../support/platform';

const ROOT = join(__dirname, '..', '..');
const SCOPES = ['requests:read', 'requests:write', 'deals:read', 'deals:write', 'contacts:read', 'pipelines:write'];

let platform: Platform;
let funnelDb: Pool;
const keys = { a: '', b: '' };
const pipelines = { a: '', b: '' };
const svc = (t: 'a' | 'b'): TenantContext => ({ tenantId: platform.tenants[t].id, callerId: 'e2e', callerKind: 'service' });
let deals: ReturnType<typeof createClient<typeof DealServiceService>>;
let cards: ReturnType<typeof createClient<typeof ClientCardsServiceService>>;
const children: ChildProcess[] = [];

interface Res {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON under test
  body: any;
}

async function call(base: string, method: string, path: string, body?: unknown, key = keys.a): Promise<Res> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
}
const api = (method: string, path: string, body?: unknown, key?: string) => call(platform.base, method, path, body, key);

let phoneSeq = Math.floor(Math.random() * 1_000_000);
const newPhone = () => `+7998${String(1_000_000 + (phoneSeq++ % 8_000_000)).padStart(7, '0')}`;

/** A web-form request with a phone (contacts matches it to a contact with a personal card). */
async function newRequest(name: string, phone = newPhone(), key = keys.a) {
  const res = await api('POST', '/v1/requests', { channel: 'web_form', name, phone, attribution: { utm_source: 'yandex', utm_campaign: 'spring', landing_page: 'https://example.com/offer' } }, key);
  expect(res.status).toBe(201);
  return { ...res.body, phone } as { id: string; contact_id?: string; phone: string };
}

async function dealsOf(requestId: string): Promise<{ id: string }[]> {
  return (await funnelDb.query('SELECT id FROM deals WHERE origin_request_id = $1', [requestId])).rows;
}

const definition = (name: string): PipelineDefinition => ({
  name,
  stages: [
    { key: 'new', name: 'Новая', outcome: StageOutcome.STAGE_OUTCOME_OPEN, to: ['talks', 'won', 'lost'], guard: undefined, checklist: [], probability: 10 },
    { key: 'talks', name: 'Переговоры', outcome: StageOutcome.STAGE_OUTCOME_OPEN, to: ['won', 'lost'], guard: undefined, checklist: [], probability: 50 },
    { key: 'won', name: 'Выиграна', outcome: StageOutcome.STAGE_OUTCOME_WON, to: [], guard: undefined, checklist: [], probability: 100 },
    { key: 'lost', name: 'Проиграна', outcome: StageOutcome.STAGE_OUTCOME_LOST, to: [], guard: undefined, checklist: [], probability: 0 },
  ],
  lostReasons: ['price', 'no_answer'],
  fields: [],
  defaultCurrency: 'RUB',
});

beforeAll(async () => {
  platform = await startPlatform({ gatewayEnv: { API_RATE_PER_CREDENTIAL: '100000' } });
  funnelDb = new Pool({ connectionString: platform.funnelDbUrl, max: 2 });
  const identity = createClient(IdentityServiceService, { address: platform.identityAddr });
  const pipelineClient = createClient(PipelineServiceService, { address: platform.funnelAddr });
  for (const t of ['a', 'b'] as const) {
    keys[t] = (await identity.createApiKey({ name: 'conversion', scopes: SCOPES }, svc(t))).secret;
    pipelines[t] = (await pipelineClient.createPipeline({ definition: definition(`Продажи ${t}`) }, svc(t))).pipeline!.id;
  }
  identity.close();
  pipelineClient.close();
  deals = createClient(DealServiceService, { address: platform.funnelAddr });
  cards = createClient(ClientCardsServiceService, { address: platform.contactsAddr });
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  deals?.close();
  cards?.close();
  await funnelDb?.end();
  await platform?.stop();
});

describe('converting a request', () => {
  it('ten concurrent converts make one deal and a converted request pointing to it; a retry answers 200 with it', async () => {
    const r = await newRequest('Анна Смирнова');
    const contactId = await eventually(async () => (await api('GET', `/v1/requests/${r.id}`)).body.contact_id as string, { until: Boolean, message: 'the request linked to its contact' });
    const answers = await Promise.all(Array.from({ length: 10 }, () => api('POST', `/v1/requests/${r.id}/convert`, { pipeline_id: pipelines.a })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const dealIds = new Set(answers.map((a) => a.body.deal.id));
    expect(dealIds.size).toBe(1);
    const [dealId] = dealIds;
    expect(await dealsOf(r.id)).toEqual([{ id: dealId }]);
    const { deal, request } = answers.find((a) => a.status === 201)!.body;
    expect(request).toMatchObject({ id: r.id, state: 'converted', deal_id: dealId });
    const card = (await cards.listClientCards({ states: [], kinds: [], ownerId: '', contactId, companyId: '', query: '', pageSize: 10, cursor: '' }, svc('a'))).cards[0];
    expect(deal).toMatchObject({
      title: 'Анна Смирнова — web form',
      pipeline_id: pipelines.a,
      stage: 'new',
      state: 'open',
      currency: 'RUB',
      origin_request_id: r.id,
      contact_ids: [contactId],
      client_card_id: card.id,
      sales_channel: 'inbound_leadgen',
      attribution: { utm_source: 'yandex', utm_campaign: 'spring', landing_page: 'https://example.com/offer', channel: 'web_form' },
    });
    expect((await api('GET', `/v1/requests/${r.id}`)).body).toMatchObject({ state: 'converted', deal_id: dealId });
    const retry = await api('POST', `/v1/requests/${r.id}/convert`, { pipeline_id: pipelines.a, title: 'Другое название' });
    expect(retry.status).toBe(200);
    expect(retry.body.deal.id).toBe(dealId);
    expect(await dealsOf(r.id)).toHaveLength(1);
  });

  it('survives funnel SIGKILLed mid-conversion: 503 while it is down, nothing half-written, one deal after the retries', async () => {
    const port = await freePort();
    const startChild = async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services', 'funnel', 'src', 'main.ts')], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: platform.funnelDbUrl, KAFKA_BROKERS: stackUrls().kafkaBrokers.join(','), GRPC_HOST: '127.0.0.1', GRPC_PORT: String(port), TOPIC_SUFFIX: platform.topicSuffix, LOG_LEVEL: 'info', OTEL_SERVICE_NAME: 'funnel-child' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (chunk) => {
          out += String(chunk);
          if (out.includes('"msg":"service started"')) resolve();
          if (out.length > 100_000) out = out.slice(-1000);
        });
        child.once('exit', (code, signal) => reject(new Error(`funnel exited before it started (${code ?? signal})`)));
      });
      return child;
    };
    let child = await startChild();
    const gateway: RunningGateway = await startReplica(platform, { FUNNEL_GRPC_ADDR: `127.0.0.1:${port}`, API_RATE_PER_CREDENTIAL: '100000', GATEWAY_MAX_INFLIGHT: '1000', AUTH_CACHE_TTL_MS: '0' }, 'conversion-replica');
    try {
      const r = await newRequest('Борис Крашев');
      await eventually(async () => (await api('GET', `/v1/requests/${r.id}`)).body.contact_id, { until: Boolean });
      const convert = () => call(gateway.address, 'POST', `/v1/requests/${r.id}/convert`, { pipeline_id: pipelines.a });
      const inFlight = Array.from({ length: 10 }, convert);
      // SIGKILL as soon as the deal is in funnel's database (the answers may not be on their way yet), or after 3 s.
      const committed = await eventually(async () => (await dealsOf(r.id)).length, { until: (n) => n > 0, timeoutMs: 3000, intervalMs: 5 }).then(() => true, () => false);
      child.kill('SIGKILL');
      const first = await Promise.all(inFlight);
      // 503: funnel's connection broke (or it was down); 504 would be a call that hung until its deadline.
      const broken = (a: Res) => a.status === 503 || a.status === 504;
      for (const a of first) expect([200, 201, 503, 504]).toContain(a.status);
      expect((await dealsOf(r.id)).length).toBeLessThanOrEqual(1);
      // While funnel is down: a 503 problem, and still at most one deal.
      const down = await convert();
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ status: 503 });
      expect((await dealsOf(r.id)).length).toBeLessThanOrEqual(1);
      const mid = (await api('GET', `/v1/requests/${r.id}`)).body;
      if (mid.state === 'converted') expect([mid.deal_id]).toEqual((await dealsOf(r.id)).map((d) => d.id));
      else expect(mid.state).toBe('new');

      child = await startChild();
      const failed = first.filter(broken).length + 1;
      const retries = await eventually(async () => {
        const all = await Promise.all(Array.from({ length: failed }, convert));
        if (all.some(broken)) throw new Error('funnel not reachable yet');
        return all;
      }, { timeoutMs: 20_000, intervalMs: 200 });
      const stored = await dealsOf(r.id);
      expect(stored).toHaveLength(1);
      for (const a of [...first.filter((x) => !broken(x)), ...retries]) {
        expect([200, 201]).toContain(a.status);
        expect(a.body.deal.id).toBe(stored[0].id);
      }
      expect([...first, ...retries].filter((a) => a.status === 201).length).toBeLessThanOrEqual(1);
      expect((await api('GET', `/v1/requests/${r.id}`)).body).toMatchObject({ state: 'converted', deal_id: stored[0].id });
      process.stdout.write(
        `conversion: SIGKILL with 10 converts in flight (the deal ${committed ? 'already' : 'not yet'} committed): ${first.filter(broken).length} answered 503/504; ` +
          `while funnel was down the request was ${mid.state}; ${failed} retried after the restart; one deal\n`,
      );
    } finally {
      await gateway.stop();
      child.kill('SIGKILL');
    }
  }, 60_000);

  it('the crash window between the two writes: intake converts the request from funnel’s request_linked; a later convert answers 200 with that deal', async () => {
    const r = await newRequest('Виктор Окно');
    // The gateway's first half by hand, as if it died right after CreateDeal.
    const made = await deals.createDeal(CreateDealRequest.fromPartial({ pipelineId: pipelines.a, title: 'Окно', originRequestId: r.id, idempotencyKey: `convert:${r.id}` }), svc('a'));
    const dealId = made.deal!.id;
    const converted = await eventually(async () => (await api('GET', `/v1/requests/${r.id}`)).body, { until: (b) => b.state === 'converted', message: 'intake converted the request by itself' });
    expect(converted.deal_id).toBe(dealId);
    const history = (await api('GET', `/v1/requests/${r.id}/history`)).body.items;
    expect(history.find((h: { field: string; to: string }) => h.field === 'state' && h.to === 'converted')).toMatchObject({ actor_kind: 'service', actor_id: 'funnel' });
    const later = await api('POST', `/v1/requests/${r.id}/convert`, { pipeline_id: pipelines.a });
    expect(later.status).toBe(200);
    expect(later.body).toMatchObject({ deal: { id: dealId, origin_request_id: r.id }, request: { state: 'converted', deal_id: dealId } });
    expect(await dealsOf(r.id)).toHaveLength(1);

    // A convert right after the lost second write, before the consumer got there: the key was used with
    // another body (title), and the answer is still the request's one deal, the request converted to it.
    const quick = await newRequest('Галя Быстрая');
    const byHand = (await deals.createDeal(CreateDealRequest.fromPartial({ pipelineId: pipelines.a, title: 'Другое', originRequestId: quick.id, idempotencyKey: `convert:${quick.id}` }), svc('a'))).deal!;
    const racing = await api('POST', `/v1/requests/${quick.id}/convert`, { pipeline_id: pipelines.a });
    expect(racing.status).toBe(200);
    expect(racing.body).toMatchObject({ deal: { id: byHand.id }, request: { state: 'converted', deal_id: byHand.id } });
    expect(await dealsOf(quick.id)).toHaveLength(1);
  });
});

describe('attaching, client card states and bad input', () => {
  it('attaches to an open deal and to a card; a won deal makes the card active, a later lost one keeps it; free base once no deal is open', async () => {
    const phone = newPhone();
    const first = await newRequest('Галина Клиентова', phone);
    await eventually(async () => (await api('GET', `/v1/requests/${first.id}`)).body.contact_id, { until: Boolean });
    const conv = await api('POST', `/v1/requests/${first.id}/convert`, { pipeline_id: pipelines.a, title: 'Галина: поставка', amount_minor: 1_500_000 });
    expect(conv.status).toBe(201);
    const deal = conv.body.deal;
    const cardId: string = deal.client_card_id;
    expect(cardId).toBeTruthy();

    // A repeat call of the same client attached to the open deal (a retry answers the same), another to the card.
    const repeat = await newRequest('Галина Клиентова', phone);
    const attach = await api('POST', `/v1/requests/${repeat.id}/attach`, { deal_id: deal.id });
    expect(attach.status).toBe(200);
    expect(attach.body).toMatchObject({ request: { state: 'attached', deal_id: deal.id }, deal: { id: deal.id } });
    expect((await api('POST', `/v1/requests/${repeat.id}/attach`, { deal_id: deal.id })).status).toBe(200);
    const linked = (await deals.getDeal({ id: deal.id }, svc('a'))).requests;
    expect(linked.map((l) => [l.requestId, l.kind]).sort()).toEqual([[first.id, 'converted'], [repeat.id, 'attached']].sort());
    const toCard = await newRequest('Галина Клиентова', phone);
    const attachCard = await api('POST', `/v1/requests/${toCard.id}/attach`, { client_card_id: cardId });
    expect(attachCard.status).toBe(200);
    expect(attachCard.body).toMatchObject({ request: { state: 'attached', client_card_id: cardId, deal_id: null }, deal: null });

    // Won → the card is active.
    await deals.moveDeal({ id: deal.id, expectedVersion: 0, toStage: 'won', lostReason: '', comment: '' }, svc('a'));
    await eventually(async () => (await api('GET', `/v1/client-cards/${cardId}`)).body.state, { until: (s) => s === 'active', message: 'the card active after the won deal' });
    // Attaching to a won deal is refused.
    const late = await newRequest('Галина Клиентова', phone);
    expect((await api('POST', `/v1/requests/${late.id}/attach`, { deal_id: deal.id })).status).toBe(409);

    // A second deal on the same client, lost: the card stays active; no deal open → the free base.
    const second = await api('POST', `/v1/requests/${late.id}/convert`, { pipeline_id: pipelines.a });
    expect(second.status).toBe(201);
    expect(second.body.deal.client_card_id).toBe(cardId);
    const inFree = async () => ((await api('GET', '/v1/bases/free?page_size=100')).body.items as { id: string }[]).some((c) => c.id === cardId);
    await eventually(async () => (await api('GET', `/v1/client-cards/${cardId}`)).body.open_deals, { until: (n) => n === 1 });
    expect(await inFree()).toBe(false);
    await deals.moveDeal({ id: second.body.deal.id, expectedVersion: 0, toStage: 'lost', lostReason: 'price', comment: '' }, svc('a'));
    await eventually(inFree, { until: Boolean, message: 'the client in the free base once no deal is open' });
    expect((await api('GET', `/v1/client-cards/${cardId}`)).body.state).toBe('active');

    // Reopened: the deal is open again (out of the free base, still active), with a timeline entry.
    await deals.reopenDeal({ id: second.body.deal.id, expectedVersion: 0, toStage: '', comment: 'они передумали' }, svc('a'));
    await eventually(inFree, { until: (v) => !v, message: 'a reopened deal takes the client out of the free base' });
    expect((await api('GET', `/v1/client-cards/${cardId}`)).body.state).toBe('active');
    const timeline = (await api('GET', `/v1/client-cards/${cardId}/timeline?page_size=100`)).body.items as { kind: string }[];
    expect(timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['deal_opened', 'deal_won', 'deal_lost', 'deal_reopened']));
  });

  it('bad input: another tenant’s request or pipeline 404, malformed bodies 400, a trashed request 409 — and no deal', async () => {
    const r = await newRequest('Дмитрий Плохой');
    const other = await newRequest('Чужой', newPhone(), keys.b);
    expect((await api('POST', `/v1/requests/${other.id}/convert`, { pipeline_id: pipelines.a })).status).toBe(404);
    expect((await api('POST', `/v1/requests/${r.id}/convert`, { pipeline_id: pipelines.b })).status).toBe(404);
    expect((await api('POST', `/v1/requests/${other.id}/attach`, { client_card_id: '01960000-0000-7000-8000-000000000009' })).status).toBe(404);
    for (const body of [{}, { pipeline_id: 'nope' }, { pipeline_id: pipelines.a, amount_minor: 1.5 }, { pipeline_id: pipelines.a, amount_minor: -1 }, { pipeline_id: pipelines.a, currency: 'rub' }, { pipeline_id: pipelines.a, extra: 1 }, { pipeline_id: pipelines.a, title: ' ' }, '{"pipeline_id":']) {
      const res = await api('POST', `/v1/requests/${r.id}/convert`, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    for (const body of [{}, { deal_id: pipelines.a, client_card_id: pipelines.a }, { deal_id: 'x' }]) expect((await api('POST', `/v1/requests/${r.id}/attach`, body)).status).toBe(400);
    expect((await api('POST', '/v1/requests/not-a-uuid/convert', { pipeline_id: pipelines.a })).status).toBe(400);
    expect((await api('POST', `/v1/requests/${r.id}/convert`, { pipeline_id: pipelines.a }, platform.tenants.a.apiKey)).status).toBe(403);

    expect((await api('POST', `/v1/requests/${r.id}/transitions`, { to: 'trash', trash_reason: 'spam' })).status).toBe(200);
    const trashed = await api('POST', `/v1/requests/${r.id}/convert`, { pipeline_id: pipelines.a });
    expect(trashed.status).toBe(409);
    expect(trashed.body).toMatchObject({ state: 'trash', allowed: ['new'] });
    expect(await dealsOf(r.id)).toHaveLength(0);
    expect((await api('GET', `/v1/requests/${r.id}`)).body.state).toBe('trash');

    // Converted by hand into some other deal: a conversion is a 409, and funnel gets no deal for it.
    const byHand = await newRequest('Елена Вручную');
    expect((await api('POST', `/v1/requests/${byHand.id}/transitions`, { to: 'converted', deal_id: '01960000-0000-7000-8000-0000000000de' })).status).toBe(200);
    const elsewhere = await api('POST', `/v1/requests/${byHand.id}/convert`, { pipeline_id: pipelines.a });
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body).toMatchObject({ state: 'converted', allowed: [] });
    expect(await dealsOf(byHand.id)).toHaveLength(0);
  });
});
