import { ItemCreated } from '@crm/contracts/crm/testkit/events/v1/item_events';
import { decodeData, decodeEvent, encodeEvent, EnvelopeError, type CloudEvent } from './envelope';

const base: CloudEvent = {
  id: '01936f5e-7c3a-7b1e-9a2b-3c4d5e6f7a8b',
  source: 'crm/testkit',
  type: 'crm.testkit.item.created.v1',
  subject: 'item-1',
  tenantId: 't1',
  time: '2026-11-27T09:00:00.000Z',
  contentType: 'application/protobuf',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  data: Buffer.from(ItemCreated.encode({ itemId: 'item-1', tenantId: 't1', name: 'x' }).finish()),
};

function asReceived(msg: ReturnType<typeof encodeEvent>) {
  const headers: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(msg.headers ?? {})) headers[k] = Buffer.from(String(v));
  return { headers, value: msg.value as Buffer };
}

describe('CloudEvents envelope', () => {
  it('round-trips through binary mode headers', () => {
    const msg = encodeEvent(base);
    expect(msg.key).toBe('t1:item-1');
    expect(msg.headers).toMatchObject({ ce_specversion: '1.0', ce_type: base.type, ce_tenantid: 't1' });
    const back = decodeEvent(asReceived(msg));
    expect(back).toEqual(base);
    expect(decodeData(back, ItemCreated)).toEqual({ itemId: 'item-1', tenantId: 't1', name: 'x' });
  });

  it.each([
    ['ce_id', /ce_id is missing/],
    ['ce_type', /ce_type is missing/],
    ['ce_tenantid', /ce_tenantid is missing/],
    ['ce_specversion', /ce_specversion is missing/],
    ['ce_time', /ce_time is missing/],
  ])('a message without %s is a clear EnvelopeError', (name, re) => {
    const received = asReceived(encodeEvent(base));
    delete received.headers[name];
    expect(() => decodeEvent(received)).toThrow(EnvelopeError);
    expect(() => decodeEvent(received)).toThrow(re);
  });

  it('names every malformed header at once', () => {
    const received = asReceived(encodeEvent(base));
    received.headers.ce_id = Buffer.from('42');
    received.headers.ce_time = Buffer.from('yesterday');
    received.headers.ce_type = Buffer.from('Created');
    received.headers.traceparent = Buffer.from('garbage');
    received.headers.ce_specversion = Buffer.from('0.3');
    let err: EnvelopeError | undefined;
    try {
      decodeEvent(received);
    } catch (e) {
      err = e as EnvelopeError;
    }
    expect(err).toBeInstanceOf(EnvelopeError);
    expect(err!.problems).toHaveLength(5);
  });

  it('a message with no headers at all or a null value is an EnvelopeError, not a crash', () => {
    expect(() => decodeEvent({ value: Buffer.from('x') })).toThrow(EnvelopeError);
    const received = asReceived(encodeEvent(base));
    expect(() => decodeEvent({ headers: received.headers, value: null })).toThrow(/tombstone/);
  });

  it('a payload that is not protobuf is an EnvelopeError', () => {
    const bad = { ...base, data: Buffer.from([0xff, 0xff, 0xff, 0xff]) };
    expect(() => decodeData(bad, ItemCreated)).toThrow(EnvelopeError);
  });

  it('refuses to encode an invalid event', () => {
    expect(() => encodeEvent({ ...base, id: '' })).toThrow(/ce_id is missing/);
  });
});
