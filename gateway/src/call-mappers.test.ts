import { Call, CallDirection, CallStatus, NumberKind } from '@crm/contracts/crm/telephony/v1/telephony';
import { callEventOut, callOut, parseRange } from './call-mappers';
import { callUpdated } from './realtime';

describe('parseRange', () => {
  test.each([
    ['bytes=0-99', 1000, { start: 0, end: 99 }],
    ['bytes=500-', 1000, { start: 500, end: 999 }],
    ['bytes=-100', 1000, { start: 900, end: 999 }],
    ['bytes=-5000', 1000, { start: 0, end: 999 }],
    ['bytes=900-5000', 1000, { start: 900, end: 999 }],
    ['bytes=1000-', 1000, 'unsatisfiable'],
    ['bytes=-0', 1000, 'unsatisfiable'],
    ['bytes=5-1', 1000, undefined],
    ['bytes=0-1,5-9', 1000, undefined],
    ['items=0-1', 1000, undefined],
    ['bytes=-', 1000, undefined],
    [undefined, 1000, undefined],
  ])('%s of %d bytes', (header, size, want) => {
    expect(parseRange(header, size)).toEqual(want);
  });
});

test('a call in REST words: enums as words, absent references null', () => {
  const c = callOut(
    Call.fromPartial({ id: 'c1', direction: CallDirection.CALL_DIRECTION_OUTBOUND, status: CallStatus.CALL_STATUS_MISSED, numberKind: NumberKind.NUMBER_KIND_SALES, ringingUserIds: ['u1'], createdAt: '2026-01-01T00:00:00Z' }),
  );
  expect(c).toMatchObject({ direction: 'outbound', status: 'missed', number_kind: 'sales', request_id: null, answered_at: null, disposition: null, updated_at: '2026-01-01T00:00:00Z' });
  expect(callOut(Call.fromPartial({ id: 'c2' })).number_kind).toBeNull();
  expect(callEventOut({ id: 'e', kind: 'ringing', at: 'x', seq: 3, providerEventId: '', webhookEventId: '', detailJson: 'not json' })).toEqual({ id: 'e', kind: 'ringing', at: 'x', seq: 3, detail: {} });
});

test('call.updated is addressed to the ringing users, who answered and who it was transferred to — nobody else', () => {
  const r = callUpdated('transferred', Call.fromPartial({ id: 'c', ringingUserIds: ['u1', 'u2'], userId: 'u2', transfers: [{ toUserId: 'u3' }] }), ['u3', '']);
  expect(r.to?.sort()).toEqual(['u1', 'u2', 'u3']);
  expect(callUpdated('ended', Call.fromPartial({ id: 'c' })).to).toEqual([]);
});
