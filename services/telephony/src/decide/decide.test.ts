import { e164, onShiftMembers, pickTargets } from './decide';

const conn = { fallbackTarget: 'reception' };
const ext = new Map([
  ['u1', '101'],
  ['u2', '102'],
]);

describe('pickTargets', () => {
  it('rings the assignee when they have an extension on the connection', () => {
    expect(pickTargets(conn, { assigneeId: 'u1', assignedBy: 'owner', departmentId: 'd' }, ext, ['u2'])).toMatchObject({ extensions: ['101'], userIds: ['u1'], decidedBy: 'owner', fallback: false, queue: '' });
  });
  it("rings the department's members with extensions when nobody (or nobody reachable) was assigned", () => {
    expect(pickTargets(conn, { assigneeId: '', assignedBy: 'none', departmentId: 'd' }, ext, ['u3', 'u2', 'u1'])).toMatchObject({ extensions: ['102', '101'], userIds: ['u2', 'u1'], queue: 'd', decidedBy: 'department' });
    expect(pickTargets(conn, { assigneeId: 'u3', assignedBy: 'round_robin', departmentId: 'd' }, ext, ['u2'])).toMatchObject({ extensions: ['102'], decidedBy: 'department' });
  });
  it('answers the fallback when nobody can be rung or intake did not decide', () => {
    expect(pickTargets(conn, { assigneeId: '', assignedBy: 'none', departmentId: 'd' }, ext, ['u3'])).toMatchObject({ fallback: true, fallbackTarget: 'reception', decidedBy: 'fallback', departmentId: 'd', extensions: [] });
    expect(pickTargets(conn, undefined, ext, [])).toMatchObject({ fallback: true, fallbackTarget: 'reception' });
  });
});

describe('roster and phones', () => {
  it('keeps on-shift, present members of the department, in order', () => {
    const users = [
      { id: 'a', departmentIds: ['d'], away: false, onShift: true },
      { id: 'b', departmentIds: ['d'], away: true, onShift: true },
      { id: 'c', departmentIds: ['d'], away: false, onShift: false },
      { id: 'e', departmentIds: ['x'], away: false, onShift: true },
      { id: 'f', departmentIds: ['x', 'd'], away: false, onShift: true },
    ];
    expect(onShiftMembers(users, 'd')).toEqual(['a', 'f']);
  });
  it('normalises common spellings to E.164 and anything else to empty', () => {
    expect(e164('8 (916) 555-00-01')).toBe('+79165550001');
    expect(e164('+7 495 123 00 01')).toBe('+74951230001');
    expect(e164('anonymous')).toBe('');
    expect(e164('')).toBe('');
  });
});
