import { Deal, DealState, SalesChannel } from '@crm/contracts/crm/funnel/v1/deals';
import { FieldType, Pipeline, StageOutcome } from '@crm/contracts/crm/funnel/v1/pipelines';
import { DomainError } from '@crm/errors';
import { Metadata, toServiceError } from '@crm/grpc';
import { boardFilterIn, dealCreateIn, dealOut, dealUpdateIn, definitionIn, pipelineOut, SALES_CHANNELS } from './funnel-mappers';
import { toProblem } from './problem';

const ID = '01936f5e-1234-7abc-8def-0123456789ab';
const OTHER = '01936f5e-5678-7abc-8def-0123456789ab';

/** A DomainError as the gateway gets it back from a service (through @crm/grpc's metadata). */
function overTheWire(err: DomainError) {
  const e = toServiceError(err);
  return Object.assign(new Error(String(e.details)), { code: e.code, details: e.details, metadata: e.metadata ?? new Metadata() });
}

describe('funnel problems', () => {
  it("a move the definition forbids is a 409 with the stage and the allowed stage keys (not request states)", () => {
    const err = new DomainError('FAILED_PRECONDITION', 'cannot move from new to won; allowed: qualification, lost', {
      details: { public: { stage: 'won', allowed: JSON.stringify(['qualification', 'lost']) } },
    });
    const p = toProblem(overTheWire(err));
    expect(p).toMatchObject({ status: 409, code: 'FAILED_PRECONDITION', stage: 'won', allowed: ['qualification', 'lost'] });
    expect(p.state).toBeUndefined();
    // Nothing allowed (a comma list, empty) and junk in the list are kept out.
    expect(toProblem(overTheWire(new DomainError('FAILED_PRECONDITION', 'no', { details: { public: { stage: 'won', allowed: '' } } })))).toMatchObject({ allowed: [] });
    expect(toProblem(overTheWire(new DomainError('FAILED_PRECONDITION', 'no', { details: { public: { stage: 'won', allowed: '["lost","<b>","Proposal"]' } } })))).toMatchObject({ allowed: ['lost'] });
  });

  it('a failing guard is a 409 with the guard and what it misses', () => {
    const err = new DomainError('FAILED_PRECONDITION', 'proposal needs the amount', { details: { public: { stage: 'proposal', guard: 'required_fields', missing: '["amount","budget_source"]' } } });
    expect(toProblem(overTheWire(err))).toMatchObject({ status: 409, stage: 'proposal', guard: 'required_fields', missing: ['amount', 'budget_source'] });
    const checklist = new DomainError('FAILED_PRECONDITION', 'tick the checklist', { details: { public: { stage: 'qualification', guard: 'checklist_complete', missing: 'need,decision_maker' } } });
    const p = toProblem(overTheWire(checklist));
    expect(p).toMatchObject({ guard: 'checklist_complete', missing: ['need', 'decision_maker'] });
    expect(p.allowed).toBeUndefined();
  });

  it("a request's illegal transition keeps its state words", () => {
    const err = new DomainError('FAILED_PRECONDITION', 'no', { details: { public: { state: 'new', allowed: JSON.stringify(['assigned']) } } });
    const p = toProblem(overTheWire(err));
    expect(p).toMatchObject({ state: 'new', allowed: ['assigned'] });
    expect(p.stage).toBeUndefined();
  });

  it('a rejected definition is a 400 with every violation', () => {
    const violations = [
      { field: 'stages[2].to[0]', code: 'unknown_stage', message: 'no stage "nowhere"' },
      { field: 'name', code: 'required', message: 'a name is required' },
    ];
    const err = new DomainError('INVALID_ARGUMENT', 'the pipeline definition is invalid', { details: { public: { violations: JSON.stringify(violations) } } });
    expect(toProblem(overTheWire(err))).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT', violations });
  });

  it('a stale deal is a 412 with the deal as it is now (REST shape)', () => {
    const now = Deal.fromPartial({ id: ID, pipelineId: OTHER, stage: 'proposal', state: DealState.DEAL_STATE_OPEN, version: 7, amountMinor: 5 });
    const err = new DomainError('CONFLICT', 'the deal moved on', { details: { current: Deal.toJSON(now) as object } });
    expect(toProblem(err)).toMatchObject({ status: 412, current: { id: ID, stage: 'proposal', state: 'open', version: 7, amount_minor: 5, owner_id: null } });
    const pipeline = Pipeline.fromPartial({ id: ID, version: 3, definition: { name: 'Продажи', stages: [] } });
    expect(toProblem(new DomainError('CONFLICT', 'moved on', { details: { current: Pipeline.toJSON(pipeline) as object } }))).toMatchObject({ status: 412, current: { id: ID, version: 3, name: 'Продажи' } });
    // An ABORTED without a current (a migration's expected_total) stays a 409.
    expect(toProblem(new DomainError('CONFLICT', 'the number of deals changed'))).toMatchObject({ status: 409 });
  });
});

describe('funnel JSON', () => {
  it('speaks enums as words, empty strings as null, amounts as integers', () => {
    const d = dealOut(
      Deal.fromPartial({
        id: ID,
        title: 'Поставка',
        amountMinor: 1_000_000_000_000_000,
        currency: 'RUB',
        pipelineId: OTHER,
        state: DealState.DEAL_STATE_WON,
        salesChannel: SalesChannel.SALES_CHANNEL_TECH_PARTNERS,
        clientCardId: '',
        customFields: { budget_source: 'own' },
        checklist: [{ key: 'need', text: 'Need', checked: true, checkedBy: ID, checkedAt: '2028-01-01T00:00:00Z' }, { key: 'dm', text: 'DM', checked: false, checkedBy: '', checkedAt: '' }],
      }),
    );
    expect(d).toMatchObject({ amount_minor: 1e15, state: 'won', sales_channel: 'tech_partners', client_card_id: null, lost_reason: null, expected_close_date: null, custom_fields: { budget_source: 'own' } });
    expect(d.checklist[1]).toEqual({ key: 'dm', text: 'DM', checked: false, checked_by: null, checked_at: null });
    expect(dealOut(Deal.fromPartial({ id: ID })).sales_channel).toBeNull();
  });

  it('turns a definition into the proto and back', () => {
    const def = definitionIn({
      name: 'P',
      stages: [
        { key: 'new', name: 'New', outcome: 'open', to: ['won'], guard: { required_fields: ['amount'] }, checklist: [{ key: 'a', text: 'A' }], probability: 10 },
        { key: 'won', name: 'Won', outcome: 'won' },
      ],
      fields: [{ key: 'kind', label: 'Kind', type: 'enum', options: ['x'] }],
    });
    expect(def.stages[0]).toMatchObject({ outcome: StageOutcome.STAGE_OUTCOME_OPEN, guard: { requiredFields: ['amount'], checklistComplete: false } });
    expect(def.stages[1]).toMatchObject({ outcome: StageOutcome.STAGE_OUTCOME_WON, to: [], checklist: [] });
    expect(def.fields[0].type).toBe(FieldType.FIELD_TYPE_ENUM);
    const out = pipelineOut(Pipeline.fromPartial({ id: ID, version: 1, definition: def, updatedBy: '' }));
    expect(out).toMatchObject({ default_currency: 'RUB', updated_by: null, stages: [{ key: 'new', outcome: 'open', guard: { required_fields: ['amount'], checklist_complete: false } }, { key: 'won', outcome: 'won' }] });
    expect(out.fields[0]).toEqual({ key: 'kind', label: 'Kind', type: 'enum', options: ['x'] });
  });

  it('a change sends only what is given; null clears', () => {
    const u = dealUpdateIn(ID, { title: 'T', owner_id: null, sales_channel: null, custom_fields: { a: null, b: '2' } });
    expect(u).toMatchObject({ id: ID, title: 'T', ownerId: '', salesChannel: SalesChannel.SALES_CHANNEL_UNSPECIFIED, customFields: { a: '', b: '2' }, setContactIds: false });
    expect(u.clientCardId).toBeUndefined();
    expect(u.amountMinor).toBeUndefined();
    expect(dealUpdateIn(ID, { contact_ids: [] })).toMatchObject({ setContactIds: true, contactIds: [] });
    expect(dealCreateIn({ pipeline_id: ID, title: 'x', sales_channel: 'cold_sales' }, 'k')).toMatchObject({ salesChannel: SalesChannel.SALES_CHANNEL_COLD_SALES, idempotencyKey: 'k', currency: '' });
  });

  it("the board's filter: `me` is the caller, channels as enums", () => {
    expect(boardFilterIn({ owner_id: 'me', sales_channel: 'agents' }, ID)).toEqual({ ownerIds: [ID], departmentIds: [], salesChannels: [SalesChannel.SALES_CHANNEL_AGENTS], q: '', projectId: '' });
    expect(boardFilterIn({ owner_id: OTHER, department_id: ID }, ID)).toMatchObject({ ownerIds: [OTHER], departmentIds: [ID], salesChannels: [] });
    expect(SALES_CHANNELS.words).toEqual(['agents', 'ad_agencies', 'inbound_leadgen', 'cold_sales', 'tech_partners']);
  });
});
