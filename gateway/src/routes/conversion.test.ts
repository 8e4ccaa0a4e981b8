import { Channel, Request } from '@crm/contracts/crm/intake/v1/request';
import { defaultTitle, TITLE_MAX } from './conversion';

const request = (over: Partial<Request>): Request => Request.fromPartial({ id: '01960000-0000-7000-8000-000000000001', axes: { channel: Channel.CHANNEL_WEB_FORM }, ...over });

describe('the default title of a converted request', () => {
  it('is "<name or phone or e-mail> — <channel>"', () => {
    expect(defaultTitle(request({ name: '  Анна   Смирнова ' }))).toBe('Анна Смирнова — web form');
    expect(defaultTitle(request({ phone: '+79991234567', axes: { channel: Channel.CHANNEL_PHONE } as Request['axes'] }))).toBe('+79991234567 — phone call');
    expect(defaultTitle(request({ email: 'a@example.com', axes: { channel: Channel.CHANNEL_EMAIL } as Request['axes'] }))).toBe('a@example.com — e-mail');
    expect(defaultTitle(request({ axes: undefined }))).toBe('Request — request');
  });

  it('cuts a long name (never the channel) to at most 200 characters, counting code points', () => {
    const t = defaultTitle(request({ name: '😀'.repeat(300) }));
    expect([...t].length).toBe(TITLE_MAX);
    expect(t.endsWith('… — web form')).toBe(true);
  });
});
