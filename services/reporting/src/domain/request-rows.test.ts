import { RequestCommented, RequestCreated } from '@crm/contracts/crm/intake/events/v1/request_events';
import { Channel, Comment, ContactAxis, MeaningAxis, NumberAxis, QualificationAxis, RequestState, type Request } from '@crm/contracts/crm/intake/v1/request';
import { EnvelopeError, type CloudEvent } from '@crm/kafka';
import { enumName, InvalidEventError, mapEvent, REQUEST_COMMENTED, REQUEST_CREATED, utcTime } from './request-rows';

const TENANT = 'tenant-a';
const INGESTED = new Date('2026-05-01T10:00:00.999Z');

function event(type: string, data: Uint8Array, overrides: Partial<CloudEvent> = {}): CloudEvent {
  return {
    id: '0190f5e0-0000-7000-8000-000000000001',
    source: 'crm/intake',
    type,
    subject: 'req-1',
    tenantId: TENANT,
    time: '2026-04-30T23:59:59Z',
    contentType: 'application/protobuf',
    data: Buffer.from(data),
    ...overrides,
  };
}

function created(request: Partial<Request> | undefined, overrides: Partial<CloudEvent> = {}): CloudEvent {
  const payload = RequestCreated.fromPartial({ request: request && { id: 'req-1', tenantId: TENANT, createdAt: '2026-04-30T21:30:00.123+03:00', ...request } });
  return event(REQUEST_CREATED, RequestCreated.encode(payload).finish(), overrides);
}

describe('mapEvent: crm.intake.request.created.v1', () => {
  it('maps a request with axes and attribution to a requests row (UTC time and day)', () => {
    const mapped = mapEvent(
      created({
        state: RequestState.REQUEST_STATE_NEW,
        axes: {
          number: NumberAxis.NUMBER_AXIS_PRIMARY,
          meaning: MeaningAxis.MEANING_AXIS_TARGETED,
          contact: ContactAxis.CONTACT_AXIS_VERIFIED,
          qualification: QualificationAxis.QUALIFICATION_AXIS_PENDING,
          channel: Channel.CHANNEL_WEB_FORM,
        },
        attribution: { utmSource: 'google', utmMedium: 'cpc', utmCampaign: 'spring', utmContent: 'ad1', utmTerm: 'crm', landingPage: 'https://x.test/a', referrer: 'https://google.com/' },
        name: 'Secret Person',
        phone: '+15551234567',
      }),
      INGESTED,
    );
    expect(mapped).toEqual({
      kind: 'request',
      row: {
        event_id: '0190f5e0-0000-7000-8000-000000000001',
        tenant_id: TENANT,
        request_id: 'req-1',
        created_at: '2026-04-30 18:30:00',
        day: '2026-04-30',
        channel: 'web_form',
        number_axis: 'primary',
        meaning_axis: 'targeted',
        contact_axis: 'verified',
        qualification_axis: 'pending',
        state: 'new',
        utm_source: 'google',
        utm_medium: 'cpc',
        utm_campaign: 'spring',
        utm_content: 'ad1',
        utm_term: 'crm',
        landing_page: 'https://x.test/a',
        referrer: 'https://google.com/',
        ingested_at: '2026-05-01 10:00:00',
      },
    });
    // Personal data (name, phone, e-mail, message) is not copied into the analytics store.
    expect(JSON.stringify(mapped)).not.toMatch(/Secret Person|5551234567/);
  });

  it('uses the UTC day, not the local one', () => {
    const mapped = mapEvent(created({ createdAt: '2026-01-01T01:30:00+05:00' }), INGESTED);
    expect(mapped.kind === 'request' && [mapped.row.day, mapped.row.created_at]).toEqual(['2025-12-31', '2025-12-31 20:30:00']);
  });

  it('fills absent axes and attribution with unspecified / empty strings', () => {
    const mapped = mapEvent(created({}), INGESTED);
    expect(mapped.kind).toBe('request');
    if (mapped.kind !== 'request') return;
    expect(mapped.row).toMatchObject({ channel: 'unspecified', number_axis: 'unspecified', state: 'unspecified', utm_source: '', referrer: '' });
  });

  it('falls back to ce_time when the request has no created_at', () => {
    const mapped = mapEvent(created({ createdAt: '' }), INGESTED);
    expect(mapped.kind === 'request' && mapped.row.created_at).toBe('2026-04-30 23:59:59');
  });

  it('takes the tenant from the envelope and refuses a payload naming another tenant', () => {
    const mapped = mapEvent(created({ tenantId: '' }), INGESTED);
    expect(mapped.kind === 'request' && mapped.row.tenant_id).toBe(TENANT);
    expect(() => mapEvent(created({ tenantId: 'tenant-b' }), INGESTED)).toThrow(InvalidEventError);
  });

  it('refuses events that cannot be stored', () => {
    expect(() => mapEvent(created(undefined), INGESTED)).toThrow(/request is missing/);
    expect(() => mapEvent(created({ id: '' }), INGESTED)).toThrow(/request.id is missing/);
    expect(() => mapEvent(created({ createdAt: 'yesterday' }), INGESTED)).toThrow(/not an RFC 3339 time/);
    expect(() => mapEvent(created({ createdAt: '1969-12-31T23:59:59Z' }), INGESTED)).toThrow(InvalidEventError);
    expect(() => mapEvent(created({ createdAt: '2106-01-01T00:00:00Z' }), INGESTED)).toThrow(InvalidEventError);
  });

  it('reports a payload that is not protobuf as an EnvelopeError', () => {
    expect(() => mapEvent(event(REQUEST_CREATED, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])), INGESTED)).toThrow(EnvelopeError);
    expect(() => mapEvent(event(REQUEST_CREATED, RequestCreated.encode({ request: undefined }).finish(), { contentType: 'application/json' }), INGESTED)).toThrow(EnvelopeError);
  });
});

describe('mapEvent: crm.intake.request.commented.v1', () => {
  const commented = (comment: Partial<Comment> | undefined) =>
    event(REQUEST_COMMENTED, RequestCommented.encode({ comment: comment && Comment.fromPartial(comment) }).finish());

  it('maps a comment to a request_comments row without its text', () => {
    const mapped = mapEvent(commented({ id: 'c-1', requestId: 'req-1', authorId: 'user-1', text: 'private words', createdAt: '2026-04-30T12:00:00Z' }), INGESTED);
    expect(mapped).toEqual({
      kind: 'comment',
      row: {
        event_id: '0190f5e0-0000-7000-8000-000000000001',
        tenant_id: TENANT,
        request_id: 'req-1',
        comment_id: 'c-1',
        author_id: 'user-1',
        created_at: '2026-04-30 12:00:00',
        day: '2026-04-30',
        ingested_at: '2026-05-01 10:00:00',
      },
    });
  });

  it('refuses a comment without ids', () => {
    expect(() => mapEvent(commented(undefined), INGESTED)).toThrow(/comment is missing/);
    expect(() => mapEvent(commented({ id: '', requestId: 'r' }), INGESTED)).toThrow(/comment.id/);
    expect(() => mapEvent(commented({ id: 'c', requestId: '' }), INGESTED)).toThrow(/request_id/);
  });
});

describe('mapEvent: other types', () => {
  it('skips event types it does not store', () => {
    expect(mapEvent(event('crm.intake.request.assigned.v1', Buffer.from('anything')), INGESTED)).toEqual({ kind: 'skip', reason: 'event type crm.intake.request.assigned.v1 is not stored by reporting' });
  });
});

describe('enumName / utcTime', () => {
  it('names enum values and keeps unknown ones visible', () => {
    expect(enumName(Channel, Channel.CHANNEL_SIGNUP, 'CHANNEL_')).toBe('signup');
    expect(enumName(Channel, 0, 'CHANNEL_')).toBe('unspecified');
    expect(enumName(Channel, 42, 'CHANNEL_')).toBe('unrecognized_42');
    expect(enumName(RequestState, RequestState.REQUEST_STATE_IN_PROGRESS, 'REQUEST_STATE_')).toBe('in_progress');
  });

  it('drops fractions of a second and converts offsets to UTC', () => {
    expect(utcTime('2026-04-30T00:00:00.999-01:00', 'f')).toEqual({ at: '2026-04-30 01:00:00', day: '2026-04-30' });
    expect(() => utcTime('2026-04-30 00:00:00', 'f')).toThrow(InvalidEventError);
  });
});
