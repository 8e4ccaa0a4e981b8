import { foldCall, orderedEvents } from './fold';
import type { NormalizedCallEvent } from './model';

const base = { providerCallId: 'c1', direction: 'inbound' as const, caller: '+79161234567', dialed: '+74950000001' };
const ev = (id: string, kind: NormalizedCallEvent['kind'], at: string, extra: Partial<NormalizedCallEvent> = {}): NormalizedCallEvent => ({ ...base, providerEventId: id, kind, at, ...extra });

/** A deterministic shuffle (mulberry32) so a failure names its seed. */
function shuffled<T>(list: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const answeredCall = [
  ev('e1', 'ringing', '2026-12-01T10:00:00Z', { extensions: ['101', '102'] }),
  ev('e2', 'answered', '2026-12-01T10:00:07Z', { extension: '102' }),
  ev('e3', 'transferred', '2026-12-01T10:01:00Z', { extension: '102', transferTo: { extension: '103' } }),
  ev('e4', 'ended', '2026-12-01T10:03:07Z', { disposition: 'answered', durationSeconds: 187 }),
  ev('e5', 'recording_ready', '2026-12-01T10:03:30Z', { recording: { url: 'http://peer/rec/1.mp3', contentType: 'audio/mpeg' } }),
];

describe('foldCall', () => {
  it('folds an answered, transferred, recorded call', () => {
    const c = foldCall(answeredCall);
    expect(c).toMatchObject({
      status: 'ended',
      disposition: 'answered',
      missed: false,
      startedAt: '2026-12-01T10:00:00.000Z',
      answeredAt: '2026-12-01T10:00:07.000Z',
      endedAt: '2026-12-01T10:03:07.000Z',
      durationSeconds: 187,
      talkSeconds: 180,
      extension: '103',
      ringingExtensions: ['101', '102'],
      recordingUrl: 'http://peer/rec/1.mp3',
    });
    expect(c.transfers).toEqual([{ at: '2026-12-01T10:01:00.000Z', fromExtension: '102', toExtension: '103', toPhone: '' }]);
  });

  it('an inbound call that ended unanswered is missed; an outbound one is ended no_answer', () => {
    const missed = foldCall([ev('m1', 'ringing', '2026-12-01T10:00:00Z'), ev('m2', 'ended', '2026-12-01T10:00:30Z', { disposition: 'canceled' })]);
    expect(missed).toMatchObject({ status: 'missed', missed: true, disposition: 'canceled', durationSeconds: 30 });
    const out = foldCall([ev('o1', 'ringing', '2026-12-01T10:00:00Z', { direction: 'outbound' }), ev('o2', 'ended', '2026-12-01T10:00:30Z', { direction: 'outbound' })]);
    expect(out).toMatchObject({ status: 'ended', missed: false, disposition: 'no_answer' });
  });

  it('is the same record whatever the order and repetition of the events', () => {
    const expected = foldCall(answeredCall);
    for (let seed = 1; seed <= 200; seed++) {
      const dupes = shuffled([...answeredCall, ...answeredCall.slice(0, 1 + (seed % answeredCall.length))], seed);
      expect({ seed, call: foldCall(dupes) }).toEqual({ seed, call: expected });
    }
  });

  it('every prefix in any order folds like the same prefix in order (a late earlier event converges)', () => {
    for (let n = 1; n <= answeredCall.length; n++) {
      const prefix = answeredCall.slice(0, n);
      for (let seed = 1; seed <= 20; seed++) expect(foldCall(shuffled(prefix, seed))).toEqual(foldCall(prefix));
    }
  });

  it('orders by the provider sequence before the time (a clock skew between legs)', () => {
    const skewed = [
      ev('s1', 'ringing', '2026-12-01T10:00:05Z', { seq: 1 }),
      ev('s2', 'answered', '2026-12-01T10:00:01Z', { seq: 2, extension: '101' }),
      ev('s3', 'ended', '2026-12-01T10:00:50Z', { seq: 3 }),
    ];
    expect(orderedEvents(shuffled(skewed, 7)).map((e) => e.providerEventId)).toEqual(['s1', 's2', 's3']);
    expect(foldCall(skewed)).toMatchObject({ status: 'ended', extension: '101' });
  });

  it('an end that says answered is an answered call before its answered event arrives (never a transient miss)', () => {
    const endOnly = foldCall([answeredCall[3]!]);
    expect(endOnly).toMatchObject({ status: 'ended', disposition: 'answered', missed: false, answeredAt: '' });
    expect(foldCall([answeredCall[3]!, answeredCall[1]!])).toMatchObject({ status: 'ended', missed: false, answeredAt: '2026-12-01T10:00:07.000Z' });
  });

  it('a repeated provider event id counts once', () => {
    expect(orderedEvents([answeredCall[0]!, answeredCall[0]!, answeredCall[1]!])).toHaveLength(2);
  });
});
