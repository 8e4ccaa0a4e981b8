import { Request, RequestState } from '@crm/contracts/crm/intake/v1/request';
import { Task } from '@crm/contracts/crm/intake/v1/tasks';
import { DomainError } from '@crm/errors';
import { Metadata, status, toServiceError } from '@crm/grpc';
import { toProblem } from './problem';
import { mayView } from './realtime';
import { expectedVersion, requestFilterIn } from './work-mappers';

const ID = '01936f5e-1234-7abc-8def-0123456789ab';

/** A DomainError as the gateway gets it back from a service (through @crm/grpc's metadata). */
function overTheWire(err: DomainError) {
  const e = toServiceError(err);
  return Object.assign(new Error(String(e.details)), { code: e.code, details: e.details, metadata: e.metadata ?? new Metadata() });
}

describe('workflow problems', () => {
  it('an illegal transition is a 409 with state and allowed (allowed travels as JSON text)', () => {
    const err = new DomainError('FAILED_PRECONDITION', 'cannot move a closed request to new', { details: { reason: 'illegal_transition', public: { state: 'closed', allowed: '[]' } } });
    expect(toProblem(overTheWire(err))).toMatchObject({ status: 409, state: 'closed', allowed: [] });
    const err2 = new DomainError('FAILED_PRECONDITION', 'no', { details: { public: { state: 'new', allowed: JSON.stringify(['assigned', 'in_progress']) } } });
    expect(toProblem(overTheWire(err2))).toMatchObject({ status: 409, state: 'new', allowed: ['assigned', 'in_progress'] });
  });

  it('a stale version is a 412 with the request as it is now, in the REST shape', () => {
    const now = Request.fromPartial({ id: ID, version: 4, state: RequestState.REQUEST_STATE_IN_PROGRESS, assigneeId: ID, createdAt: '2026-12-01T10:00:00.000Z' });
    const err = new DomainError('CONFLICT', 'moved on', { details: { reason: 'version_mismatch', public: { current: JSON.stringify(Request.toJSON(now)) } } });
    const p = toProblem(overTheWire(err));
    expect(p).toMatchObject({ status: 412, title: 'Precondition Failed', current: { id: ID, version: 4, state: 'in_progress', assignee_id: ID, department_id: null } });
  });

  it('a stale task is a 412 with the task', () => {
    const t = Task.fromPartial({ id: ID, title: 'Позвонить', dueAt: '2026-12-02T10:00:00.000Z', version: 2, status: 'open', assigneeId: ID });
    const err = new DomainError('CONFLICT', 'moved on', { details: { public: { current: JSON.stringify(Task.toJSON(t)) } } });
    expect(toProblem(overTheWire(err))).toMatchObject({ status: 412, current: { id: ID, title: 'Позвонить', version: 2, request_id: null } });
  });

  it('a CONFLICT without a request (another publish) stays a 409; publish problems are listed', () => {
    const err = new DomainError('CONFLICT', 'the published version is 3', { details: { public: { current: '3' } } });
    expect(toProblem(overTheWire(err))).toMatchObject({ status: 409 });
    expect(toProblem(overTheWire(err)).current).toBeUndefined();
    const refused = new DomainError('FAILED_PRECONDITION', 'has problems', {
      details: { public: { problems: JSON.stringify([{ rule_id: 'ads', rule_index: 0, code: 'unknown_department', message: 'no such department' }]) } },
    });
    expect(toProblem(overTheWire(refused))).toMatchObject({ status: 409, problems: [{ rule_id: 'ads', rule_index: 0, code: 'unknown_department' }] });
  });

  it('plain statuses keep their old mapping', () => {
    expect(toProblem(overTheWire(new DomainError('CONFLICT', 'contact changed')))).toMatchObject({ status: 409 });
    expect(toProblem(Object.assign(new Error('x'), { code: status.ABORTED, details: 'x', metadata: new Metadata() }))).toMatchObject({ status: 409 });
  });
});

describe('If-Match', () => {
  it('takes a quoted version, prefers it to the body, and refuses anything else', () => {
    expect(expectedVersion(undefined)).toBe(0);
    expect(expectedVersion(undefined, 7)).toBe(7);
    expect(expectedVersion('"3"', 7)).toBe(3);
    for (const bad of ['3', '"0"', '"-1"', 'W/"3"', '"3", "4"', '"99999999999"', '*']) expect(() => expectedVersion(bad)).toThrow(DomainError);
    expect(() => expectedVersion(['"3"', '"4"'])).toThrow(DomainError);
  });
});

describe('the journal filter', () => {
  it('resolves assignee=me to the caller, keeps unassigned, maps the axes', () => {
    const f = requestFilterIn({ assignee: ['me', 'unassigned', 'me'], meaning: ['non_targeted'], sla_breached: false, order: 'my_work' }, 'u1', { from: '', to: '' });
    expect(f).toMatchObject({ assigneeIds: ['u1', 'unassigned'], meanings: [3], slaBreached: false, order: 'my_work' });
    expect(requestFilterIn({}, 'u1', { from: '', to: '' }).slaBreached).toBeUndefined();
  });
});

describe('realtime visibility', () => {
  const dA = '01936f5e-0000-7abc-8def-00000000000a';
  const dB = '01936f5e-0000-7abc-8def-00000000000b';
  it('a seller sees their own and their departments; a head also requests without a department; admins all', () => {
    const seller = { all: false as const, userId: 'u1', departmentIds: [dA], head: false };
    expect(mayView(seller, { departmentId: dA, assigneeId: '' })).toBe(true);
    expect(mayView(seller, { departmentId: dB, assigneeId: 'u1' })).toBe(true);
    expect(mayView(seller, { departmentId: dB, assigneeId: 'u2' })).toBe(false);
    expect(mayView(seller, { departmentId: '', assigneeId: '' })).toBe(false);
    const head = { ...seller, head: true };
    expect(mayView(head, { departmentId: '', assigneeId: '' })).toBe(true);
    expect(mayView(head, { departmentId: dB, assigneeId: '' })).toBe(false);
    expect(mayView({ all: true }, { departmentId: dB, assigneeId: 'u2' })).toBe(true);
  });
});
