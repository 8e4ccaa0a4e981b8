import { classifyOnArrival } from './axes';

describe('classifyOnArrival', () => {
  it('a first request with a contact point is primary, unverified, unknown meaning, pending', () => {
    expect(classifyOnArrival({ channel: 'web_form', phone: '+79991234567', email: null, seenContactBefore: false })).toEqual({
      number: 'primary',
      meaning: 'unknown',
      contact: 'unverified',
      qualification: 'pending',
      channel: 'web_form',
    });
  });

  it('is repeat when the tenant has seen the phone or the e-mail before', () => {
    expect(classifyOnArrival({ channel: 'phone', phone: '+79991234567', email: null, seenContactBefore: true }).number).toBe('repeat');
    expect(classifyOnArrival({ channel: 'email', phone: null, email: 'a@example.com', seenContactBefore: true }).number).toBe('repeat');
  });

  it('contact is verified when the matched contact has one of the points verified, else unverified', () => {
    expect(classifyOnArrival({ channel: 'phone', phone: '+79991234567', email: null, seenContactBefore: true, verified: true }).contact).toBe('verified');
    expect(classifyOnArrival({ channel: 'phone', phone: '+79991234567', email: null, seenContactBefore: true, verified: false }).contact).toBe('unverified');
    expect(classifyOnArrival({ channel: 'chat', phone: null, email: null, seenContactBefore: false, verified: true }).contact).toBe('none');
  });

  it('without any contact point: contact none and primary (nothing to match on)', () => {
    const axes = classifyOnArrival({ channel: 'chat', phone: null, email: null, seenContactBefore: true });
    expect(axes).toMatchObject({ number: 'primary', contact: 'none', channel: 'chat' });
  });

  it('a call to a support number is non-targeted on arrival; advertising and sales numbers leave meaning unknown', () => {
    const call = (kind: 'advertising' | 'support' | 'sales' | null) => classifyOnArrival({ channel: 'phone', phone: '+79991234567', email: null, seenContactBefore: false, dialedNumberKind: kind }).meaning;
    expect([call('support'), call('advertising'), call('sales'), call(null)]).toEqual(['non_targeted', 'unknown', 'unknown', 'unknown']);
  });
});
