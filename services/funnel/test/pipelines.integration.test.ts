/**
 * PipelineService against the real engines over real gRPC (test/harness.ts): create / update / get /
 * list / archive, the corpus of broken definitions through CreatePipeline (each INVALID_ARGUMENT with its
 * violations in the details, nothing written), versions and expected_version, two tenants, roles, and a
 * migration of deals (inserted in SQL) previewed and applied, its history and its events read back from
 * Kafka.
 */
import { DealStageChanged } from '@crm/contracts/crm/funnel/events/v1/deal_events';
import type { PipelineDefinition } from '@crm/contracts/crm/funnel/v1/pipelines';
import { uuidv7 } from '@crm/db';
import { status, type ServiceError, type TenantContext } from '@crm/grpc';
import { decodeData, decodeEvent } from '@crm/kafka';
import { collect, eventually, runId } from '@crm/testing';
import { DEAL_STAGE_CHANGED } from '../src/events';
import { adminOf, failure, startFunnelHarness, type FunnelHarness } from './harness';
import { basePipeline, BROKEN, broken, chain, OPEN, stage } from './pipeline-corpus';

let h: FunnelHarness;
let A: TenantContext;
let B: TenantContext;
const as = (ctx: TenantContext, over: Partial<TenantContext>): TenantContext => ({ ...ctx, ...over });

/** The error's details (`x-error-details`), its `violations` parsed from their JSON text. */
function details(err: ServiceError): Record<string, unknown> {
  const raw = err.metadata?.get('x-error-details')[0];
  const d = raw ? (JSON.parse(raw.toString()) as Record<string, string>) : {};
  return { ...d, ...(d.violations ? { violations: JSON.parse(d.violations) } : {}), ...(d.current ? { current: JSON.parse(d.current) } : {}) };
}

async function counts(): Promise<{ pipelines: number; versions: number }> {
  const [r] = await h.sql<{ pipelines: number; versions: number }>('SELECT (SELECT count(*)::int FROM pipelines) AS pipelines, (SELECT count(*)::int FROM pipeline_versions) AS versions');
  return r!;
}

const create = (ctx: TenantContext, definition: PipelineDefinition) => h.pipelines.createPipeline({ definition }, ctx).then((r) => r.pipeline!);

beforeAll(async () => {
  h = await startFunnelHarness('pipelines');
  A = adminOf();
  B = adminOf();
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

describe('create, get, list, archive', () => {
  it('creates at version 1 with the definition normalized and who/when; get and list read it back', async () => {
    const def = basePipeline('  Inbound sales ');
    def.defaultCurrency = '';
    const p = await create(A, def);
    expect(p).toMatchObject({ tenantId: A.tenantId, version: 1, archived: false, dealsOnOldVersions: 0, updatedBy: A.callerId });
    expect(p.definition!.name).toBe('Inbound sales');
    expect(p.definition!.defaultCurrency).toBe('RUB');
    expect(Date.parse(p.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    const got = (await h.pipelines.getPipeline({ id: p.id, version: 0 }, A)).pipeline!;
    expect(got).toEqual(p);
    expect((await h.pipelines.getPipeline({ id: p.id, version: 1 }, A)).pipeline!.definition).toEqual(p.definition);
    const listed = (await h.pipelines.listPipelines({ includeArchived: false }, A)).pipelines;
    expect(listed.map((x) => x.id)).toEqual([p.id]);
    expect(listed[0]).toEqual(p);
    const [v] = await h.sql<{ created_by: string }>('SELECT created_by FROM pipeline_versions WHERE pipeline_id = ? AND version = 1', [p.id]);
    expect(v!.created_by).toBe(A.callerId);
  });

  it('names are unique among pipelines not archived (case-insensitively); archive frees the name, restoring under a taken one is refused', async () => {
    const first = await create(A, basePipeline('Partners'));
    const dup = await failure(create(A, basePipeline('PARTNERS')));
    expect(dup.code).toBe(status.ALREADY_EXISTS);
    // Another tenant may use the name.
    await create(B, basePipeline('Partners'));

    const archived = (await h.pipelines.archivePipeline({ id: first.id, archived: true }, A)).pipeline!;
    expect(archived).toMatchObject({ archived: true, version: 1 });
    // Idempotent.
    expect((await h.pipelines.archivePipeline({ id: first.id, archived: true }, A)).pipeline!.archived).toBe(true);
    const second = await create(A, basePipeline('partners'));
    const active = (await h.pipelines.listPipelines({ includeArchived: false }, A)).pipelines.map((p) => p.id);
    const all = (await h.pipelines.listPipelines({ includeArchived: true }, A)).pipelines.map((p) => p.id);
    expect(active).toContain(second.id);
    expect(active).not.toContain(first.id);
    expect(all).toEqual(expect.arrayContaining([first.id, second.id]));

    const restore = await failure(h.pipelines.archivePipeline({ id: first.id, archived: false }, A));
    expect(restore.code).toBe(status.ALREADY_EXISTS);
    expect((await h.pipelines.getPipeline({ id: first.id, version: 0 }, A)).pipeline!.archived).toBe(true);
    await h.pipelines.archivePipeline({ id: second.id, archived: true }, A);
    expect((await h.pipelines.archivePipeline({ id: first.id, archived: false }, A)).pipeline!.archived).toBe(false);
  });
});

describe('bad definitions: the corpus through CreatePipeline', () => {
  it('refuses every broken definition with INVALID_ARGUMENT and exactly its violations, writing nothing', async () => {
    const before = await counts();
    for (const c of BROKEN) {
      const err = await failure(create(A, c.def));
      expect({ name: c.name, code: err.code }).toEqual({ name: c.name, code: status.INVALID_ARGUMENT });
      const vs = details(err).violations as { field: string; code: string; message: string }[];
      expect({ name: c.name, violations: vs.map(({ field, code }) => ({ field, code })) }).toEqual({ name: c.name, violations: c.expect });
      expect(err.metadata.get('x-error-code')[0]).toBe('INVALID_ARGUMENT');
    }
    expect(await counts()).toEqual(before);
  });

  it('ValidatePipeline answers the violations without storing anything, for any caller', async () => {
    const before = await counts();
    const seller = as(A, { roles: ['seller'] });
    expect((await h.pipelines.validatePipeline({ definition: basePipeline('Never stored') }, seller)).violations).toEqual([]);
    const trap = BROKEN.find((c) => c.expect[0]!.code === 'trap_cycle')!;
    const vs = (await h.pipelines.validatePipeline({ definition: trap.def }, seller)).violations;
    expect(vs).toEqual([{ field: 'stages[4]', code: 'trap_cycle', message: expect.stringContaining('limbo') }]);
    expect((await h.pipelines.validatePipeline({ definition: undefined }, seller)).violations.map((v) => v.code)).toEqual(['required', 'required']);
    expect(await counts()).toEqual(before);
  });

  it('caps the violations a hopeless definition travels with (the error stays a 4xx, never a transport failure)', async () => {
    const d = broken((x) => {
      x.stages = Array.from({ length: 100 }, (_, i) => stage(`s${i}`, OPEN, Array.from({ length: 20 }, (_, k) => `nowhere_${k}`)));
    });
    const err = await failure(create(A, d));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(details(err).violations).toHaveLength(50);
    expect(err.details).toMatch(/and 1999 more/);
    expect((await h.pipelines.validatePipeline({ definition: d }, A)).violations).toHaveLength(500);

    // 12,000 long messages (unknown required fields): the details hold what fits a byte budget.
    const wordy = chain(100);
    for (const s of wordy.stages) s.guard!.requiredFields = Array.from({ length: 120 }, (_, k) => `missing_field_number_${k}`);
    const long = await failure(create(A, wordy));
    expect(long.code).toBe(status.INVALID_ARGUMENT);
    const shown = details(long).violations as { code: string }[];
    expect(shown.length).toBeGreaterThan(10);
    expect(shown.length).toBeLessThanOrEqual(50);
    expect(shown.every((v) => v.code === 'unknown_field')).toBe(true);
    expect(long.details).toMatch(/and 11999 more/);
  });
});

describe('versions', () => {
  it('update stores a new version; the same definition again is no new version; a stale expected_version is ABORTED with the current pipeline', async () => {
    const p = await create(A, basePipeline('Versioned'));
    const v2def = broken((d) => {
      d.name = 'Versioned';
      d.stages[1]!.name = 'Qualified lead';
    });
    const head = as(A, { callerId: '01900000-0000-7000-8000-00000000b002', roles: ['head_of_sales'] });
    const v2 = (await h.pipelines.updatePipeline({ id: p.id, expectedVersion: 1, definition: v2def }, head)).pipeline!;
    expect(v2).toMatchObject({ version: 2, updatedBy: head.callerId });
    expect(v2.definition!.stages[1]!.name).toBe('Qualified lead');
    expect((await h.pipelines.updatePipeline({ id: p.id, expectedVersion: 2, definition: v2def }, A)).pipeline!.version).toBe(2);

    const stale = await failure(h.pipelines.updatePipeline({ id: p.id, expectedVersion: 1, definition: basePipeline('Versioned') }, A));
    expect(stale.code).toBe(status.ABORTED);
    expect(details(stale).current).toMatchObject({ id: p.id, version: 2 });

    // 0: no check.
    const v3 = (await h.pipelines.updatePipeline({ id: p.id, expectedVersion: 0, definition: basePipeline('Versioned again') }, A)).pipeline!;
    expect(v3.version).toBe(3);
    const old = (await h.pipelines.getPipeline({ id: p.id, version: 2 }, A)).pipeline!;
    expect(old).toMatchObject({ version: 2, updatedBy: head.callerId });
    expect(old.definition!.stages[1]!.name).toBe('Qualified lead');
    expect((await failure(h.pipelines.getPipeline({ id: p.id, version: 9 }, A))).code).toBe(status.NOT_FOUND);

    // An invalid new definition: refused, still version 3.
    const bad = await failure(h.pipelines.updatePipeline({ id: p.id, expectedVersion: 3, definition: BROKEN[0]!.def }, A));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect((await h.pipelines.getPipeline({ id: p.id, version: 0 }, A)).pipeline!.version).toBe(3);
    const [{ n }] = await h.sql<{ n: number }>('SELECT count(*)::int AS n FROM pipeline_versions WHERE pipeline_id = ?', [p.id]);
    expect(n).toBe(3);
  });

  it('of two concurrent updates from the same version one wins, the other is ABORTED', async () => {
    const p = await create(A, basePipeline('Raced'));
    const results = await Promise.allSettled(
      ['One', 'Two'].map((w) => h.pipelines.updatePipeline({ id: p.id, expectedVersion: 1, definition: broken((d) => void (d.stages[0]!.name = w), basePipeline('Raced')) }, A)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((lost.reason as ServiceError).code).toBe(status.ABORTED);
    expect((await h.pipelines.getPipeline({ id: p.id, version: 0 }, A)).pipeline!.version).toBe(2);
  });

  it('renaming onto another active pipeline’s name is ALREADY_EXISTS, nothing written', async () => {
    await create(A, basePipeline('Taken name'));
    const p = await create(A, basePipeline('Free name'));
    const err = await failure(h.pipelines.updatePipeline({ id: p.id, expectedVersion: 1, definition: basePipeline('taken NAME') }, A));
    expect(err.code).toBe(status.ALREADY_EXISTS);
    expect((await h.pipelines.getPipeline({ id: p.id, version: 0 }, A)).pipeline!).toMatchObject({ version: 1, definition: { name: 'Free name' } });
  });
});

describe('who may, and whose', () => {
  it('a seller or an analyst reads but cannot write; a head of sales and an API key can', async () => {
    const p = await create(A, basePipeline('Roles'));
    for (const role of ['seller', 'analyst'] as const) {
      const ctx = as(A, { roles: [role] });
      expect((await h.pipelines.getPipeline({ id: p.id, version: 0 }, ctx)).pipeline!.id).toBe(p.id);
      expect((await h.pipelines.listPipelines({ includeArchived: false }, ctx)).pipelines.map((x) => x.id)).toContain(p.id);
      for (const call of [
        create(ctx, basePipeline('By a seller')),
        h.pipelines.updatePipeline({ id: p.id, expectedVersion: 0, definition: basePipeline('Roles 2') }, ctx),
        h.pipelines.archivePipeline({ id: p.id, archived: true }, ctx),
        h.pipelines.previewMigration({ pipelineId: p.id, mapping: [] }, ctx),
        h.pipelines.applyMigration({ pipelineId: p.id, mapping: [], expectedTotal: 0 }, ctx),
      ]) {
        expect((await failure(call)).code).toBe(status.PERMISSION_DENIED);
      }
    }
    await create(as(A, { roles: ['head_of_sales'] }), basePipeline('By a head'));
    await create({ tenantId: A.tenantId, callerId: 'key-1', callerKind: 'api_key' }, basePipeline('By a key'));
    expect((await h.pipelines.getPipeline({ id: p.id, version: 0 }, A)).pipeline!).toMatchObject({ version: 1, archived: false });
  });

  it('another tenant’s pipeline is NOT_FOUND for every call; malformed ids and versions are INVALID_ARGUMENT', async () => {
    const p = await create(A, basePipeline('Private'));
    for (const call of [
      h.pipelines.getPipeline({ id: p.id, version: 0 }, B),
      h.pipelines.updatePipeline({ id: p.id, expectedVersion: 0, definition: basePipeline('Mine now') }, B),
      h.pipelines.archivePipeline({ id: p.id, archived: true }, B),
      h.pipelines.previewMigration({ pipelineId: p.id, mapping: [] }, B),
      h.pipelines.applyMigration({ pipelineId: p.id, mapping: [], expectedTotal: 0 }, B),
      h.pipelines.getPipeline({ id: uuidv7(), version: 0 }, A),
    ]) {
      expect((await failure(call)).code).toBe(status.NOT_FOUND);
    }
    expect((await h.pipelines.listPipelines({ includeArchived: true }, B)).pipelines.map((x) => x.id)).not.toContain(p.id);
    for (const call of [
      h.pipelines.getPipeline({ id: 'not-a-uuid', version: 0 }, A),
      h.pipelines.getPipeline({ id: p.id, version: -1 }, A),
      h.pipelines.updatePipeline({ id: p.id, expectedVersion: -2, definition: basePipeline('Private') }, A),
      h.pipelines.archivePipeline({ id: "'; DROP TABLE pipelines; --", archived: true }, A),
      h.pipelines.previewMigration({ pipelineId: '', mapping: [] }, A),
      h.pipelines.applyMigration({ pipelineId: p.id, mapping: [], expectedTotal: -1 }, A),
    ]) {
      expect((await failure(call)).code).toBe(status.INVALID_ARGUMENT);
    }
    expect((await h.pipelines.getPipeline({ id: p.id, version: 0 }, A)).pipeline!).toMatchObject({ version: 1, archived: false });
  });
});

describe('migrations', () => {
  async function insertDeal(ctx: TenantContext, pipelineId: string, version: number, stageKey: string, state: 'open' | 'won' | 'lost' = 'open'): Promise<string> {
    const id = uuidv7();
    const entered = new Date(Date.now() - 3_600_000);
    await h.sql(
      `INSERT INTO deals (id, tenant_id, pipeline_id, pipeline_version, stage, state, title, currency, stage_entered_at, closed_at, created_at, updated_at, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'RUB', ?, ?, ?, ?, ?)`,
      [id, ctx.tenantId, pipelineId, version, stageKey, state, `Deal at ${stageKey}`, entered, state === 'open' ? null : entered, entered, entered, ctx.callerId],
    );
    return id;
  }

  it('previews where old deals go, refuses an unmapped stage or a stale total, and applies in one transaction with history and events', async () => {
    const p = await create(A, basePipeline('Migrated'));
    const atNew = [await insertDeal(A, p.id, 1, 'new'), await insertDeal(A, p.id, 1, 'new'), await insertDeal(A, p.id, 1, 'new')];
    const atQualified = [await insertDeal(A, p.id, 1, 'qualified'), await insertDeal(A, p.id, 1, 'qualified')];
    const won = await insertDeal(A, p.id, 1, 'won', 'won');

    // Version 2: "qualified" split into discovery and proposal.
    const v2 = broken((d) => {
      d.name = 'Migrated';
      d.stages = [
        stage('new', OPEN, ['discovery', 'lost']),
        stage('discovery', OPEN, ['proposal', 'lost']),
        stage('proposal', OPEN, ['won', 'lost']),
        d.stages[2]!,
        d.stages[3]!,
      ];
    });
    const updated = (await h.pipelines.updatePipeline({ id: p.id, expectedVersion: 1, definition: v2 }, A)).pipeline!;
    expect(updated).toMatchObject({ version: 2, dealsOnOldVersions: 5 });
    expect((await h.pipelines.listPipelines({ includeArchived: false }, A)).pipelines.find((x) => x.id === p.id)!.dealsOnOldVersions).toBe(5);

    // Without a mapping: "new" still exists (open) and maps to itself; "qualified" is unmapped.
    const bare = await h.pipelines.previewMigration({ pipelineId: p.id, mapping: [] }, A);
    expect(bare).toEqual({ moves: [{ fromVersion: 1, fromStage: 'new', toStage: 'new', deals: 3 }], total: 5, unmappedStages: ['qualified'] });
    const unmapped = await failure(h.pipelines.applyMigration({ pipelineId: p.id, mapping: [], expectedTotal: 5 }, A));
    expect(unmapped.code).toBe(status.FAILED_PRECONDITION);
    expect(JSON.parse(details(unmapped).unmapped_stages as string)).toEqual(['qualified']);

    // Bad mappings.
    const badMappings: [{ fromStage: string; toStage: string }[], string, string][] = [
      [[{ fromStage: 'qualified', toStage: 'won' }], 'mapping[0].to_stage', 'invalid'],
      [[{ fromStage: 'qualified', toStage: 'nowhere' }], 'mapping[0].to_stage', 'unknown_stage'],
      [[{ fromStage: 'qualified', toStage: 'proposal' }, { fromStage: 'qualified', toStage: 'discovery' }], 'mapping[1].from_stage', 'duplicate_key'],
      [[{ fromStage: 'Not A Key', toStage: 'proposal' }], 'mapping[0].from_stage', 'invalid'],
    ];
    for (const [mapping, field, code] of badMappings) {
      const err = await failure(h.pipelines.previewMigration({ pipelineId: p.id, mapping }, A));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(details(err).violations).toEqual([{ field, code, message: expect.any(String) }]);
    }

    const mapping = [{ fromStage: 'qualified', toStage: 'proposal' }];
    const preview = await h.pipelines.previewMigration({ pipelineId: p.id, mapping }, A);
    expect(preview).toEqual({
      moves: [
        { fromVersion: 1, fromStage: 'new', toStage: 'new', deals: 3 },
        { fromVersion: 1, fromStage: 'qualified', toStage: 'proposal', deals: 2 },
      ],
      total: 5,
      unmappedStages: [],
    });
    const stale = await failure(h.pipelines.applyMigration({ pipelineId: p.id, mapping, expectedTotal: 4 }, A));
    expect(stale.code).toBe(status.ABORTED);
    expect(details(stale).total).toBe('5');
    const [untouched] = await h.sql<{ n: number }>("SELECT count(*)::int AS n FROM deals WHERE pipeline_id = ? AND pipeline_version = 1 AND state = 'open'", [p.id]);
    expect(untouched!.n).toBe(5);

    const watcher = await collect(h.kafka, h.dealTopic, `pipelines-migration-${runId}`);
    try {
      const applied = await h.pipelines.applyMigration({ pipelineId: p.id, mapping, expectedTotal: 5 }, A);
      expect(applied.moved).toBe(5);
      expect(applied.pipeline).toMatchObject({ id: p.id, version: 2, dealsOnOldVersions: 0 });

      const rows = await h.sql<{ id: string; stage: string; pipeline_version: number; version: number; stage_entered_at: Date; state: string }>(
        'SELECT id, stage, pipeline_version, version, stage_entered_at, state FROM deals WHERE pipeline_id = ? ORDER BY id',
        [p.id],
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const id of atNew) expect(byId.get(id)).toMatchObject({ stage: 'new', pipeline_version: 2, version: 2 });
      for (const id of atNew) expect(new Date(byId.get(id)!.stage_entered_at).getTime()).toBeLessThan(Date.now() - 3_000_000);
      for (const id of atQualified) expect(byId.get(id)).toMatchObject({ stage: 'proposal', pipeline_version: 2, version: 2 });
      for (const id of atQualified) expect(new Date(byId.get(id)!.stage_entered_at).getTime()).toBeGreaterThan(Date.now() - 60_000);
      // Closed deals stay on their version.
      expect(byId.get(won)).toMatchObject({ stage: 'won', pipeline_version: 1, version: 1, state: 'won' });

      const history = await h.sql<{ deal_id: string; kind: string; from_stage: string; to_stage: string; from_stage_name: string; to_stage_name: string; pipeline_version: number; seconds_in_stage: string; changed_by: string }>(
        'SELECT deal_id, kind, from_stage, to_stage, from_stage_name, to_stage_name, pipeline_version, seconds_in_stage, changed_by FROM deal_stage_history WHERE tenant_id = ? ORDER BY deal_id',
        [A.tenantId],
      );
      expect(history.map((x) => x.deal_id).sort()).toEqual([...atQualified].sort());
      for (const e of history) {
        expect(e).toMatchObject({ kind: 'migrated', from_stage: 'qualified', to_stage: 'proposal', from_stage_name: 'Qualified', to_stage_name: 'Proposal', pipeline_version: 2, changed_by: A.callerId });
        expect(Number(e.seconds_in_stage)).toBeGreaterThanOrEqual(3599);
      }

      // One stage_changed event per deal whose stage changed, and none for the others.
      const events = await eventually(() => watcher.messages.map(decodeEvent).filter((e) => e.tenantId === A.tenantId), {
        until: (es) => es.length >= 2,
        timeoutMs: 20_000,
        message: 'two stage_changed events',
      });
      await new Promise((r) => setTimeout(r, 1000));
      const mine = watcher.messages.map(decodeEvent).filter((e) => e.tenantId === A.tenantId);
      expect(mine).toHaveLength(2);
      expect(events.every((e) => e.type === DEAL_STAGE_CHANGED)).toBe(true);
      expect(mine.map((e) => e.subject).sort()).toEqual([...atQualified].sort());
      for (const e of mine) {
        const payload = decodeData(e, DealStageChanged);
        expect(payload).toMatchObject({ fromStageId: 'qualified', toStageId: 'proposal', changedBy: A.callerId });
        expect(payload.deal).toMatchObject({ id: e.subject, pipelineId: p.id, pipelineVersion: 2, stageId: 'proposal', stageName: 'Proposal', version: 2 });
      }
    } finally {
      await watcher.stop();
    }

    // Nothing left to move: the preview is empty and applying again moves nothing.
    expect(await h.pipelines.previewMigration({ pipelineId: p.id, mapping }, A)).toEqual({ moves: [], total: 0, unmappedStages: [] });
    expect((await h.pipelines.applyMigration({ pipelineId: p.id, mapping, expectedTotal: 0 }, A)).moved).toBe(0);
  });

  it('moves deals of several older versions at once; an entry for a stage holding no deals is harmless', async () => {
    const p = await create(A, basePipeline('Many versions'));
    const v1 = await insertDeal(A, p.id, 1, 'qualified');
    const v2def = broken((d) => {
      d.name = 'Many versions';
      d.stages[1]!.key = 'qualified_v2';
      d.stages[0]!.to = ['qualified_v2', 'won', 'lost'];
    });
    await h.pipelines.updatePipeline({ id: p.id, expectedVersion: 1, definition: v2def }, A);
    const v2 = await insertDeal(A, p.id, 2, 'qualified_v2');
    const v3def = broken((d) => {
      d.name = 'Many versions';
      d.stages[1]!.key = 'qualified_v3';
      d.stages[0]!.to = ['qualified_v3', 'won', 'lost'];
    });
    expect((await h.pipelines.updatePipeline({ id: p.id, expectedVersion: 2, definition: v3def }, A)).pipeline!.dealsOnOldVersions).toBe(2);
    const mapping = [
      { fromStage: 'qualified', toStage: 'qualified_v3' },
      { fromStage: 'qualified_v2', toStage: 'qualified_v3' },
      { fromStage: 'proposal', toStage: 'new' },
    ];
    expect(await h.pipelines.previewMigration({ pipelineId: p.id, mapping }, A)).toEqual({
      moves: [
        { fromVersion: 1, fromStage: 'qualified', toStage: 'qualified_v3', deals: 1 },
        { fromVersion: 2, fromStage: 'qualified_v2', toStage: 'qualified_v3', deals: 1 },
      ],
      total: 2,
      unmappedStages: [],
    });
    expect((await h.pipelines.applyMigration({ pipelineId: p.id, mapping, expectedTotal: 2 }, A)).moved).toBe(2);
    const rows = await h.sql<{ id: string; stage: string; pipeline_version: number }>('SELECT id, stage, pipeline_version FROM deals WHERE pipeline_id = ? ORDER BY id', [p.id]);
    expect(rows).toEqual([
      { id: v1, stage: 'qualified_v3', pipeline_version: 3 },
      { id: v2, stage: 'qualified_v3', pipeline_version: 3 },
    ]);
    const history = await h.sql<{ deal_id: string; from_stage: string; pipeline_version: number }>('SELECT deal_id, from_stage, pipeline_version FROM deal_stage_history WHERE deal_id IN (?, ?) ORDER BY deal_id', [v1, v2]);
    expect(history).toEqual([
      { deal_id: v1, from_stage: 'qualified', pipeline_version: 3 },
      { deal_id: v2, from_stage: 'qualified_v2', pipeline_version: 3 },
    ]);
  });
});
