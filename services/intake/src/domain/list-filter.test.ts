import { DomainError, type FieldViolation } from '@crm/errors';
import { encodeCursor } from './cursor';
import { decodeWorkCursor, encodeWorkCursor, escapeLike, prepareListFilter, searchQuery, type ListRequestsInput } from './list-filter';

const empty: ListRequestsInput = { states: [], channels: [], createdFrom: '', createdTo: '', query: '', pageSize: 0, cursor: '' };

function violations(over: Partial<ListRequestsInput>): FieldViolation[] {
  try {
    prepareListFilter({ ...empty, ...over }, 'RU');
  } catch (err) {
    expect((err as DomainError).code).toBe('INVALID_ARGUMENT');
    return (err as DomainError).violations;
  }
  throw new Error('expected a ValidationError');
}

describe('prepareListFilter', () => {
  it('defaults: page size 25, no filters', () => {
    expect(prepareListFilter(empty, 'RU')).toEqual({
      states: [],
      channels: [],
      createdFrom: null,
      createdTo: null,
      query: null,
      pageSize: 25,
      after: null,
      contactId: null,
      departmentIds: [],
      assigneeFilter: false,
      assigneeIds: [],
      includeUnassigned: false,
      projectIds: [],
      meanings: [],
      qualifications: [],
      contactAxes: [],
      numberAxes: [],
      utmSource: null,
      slaBreached: null,
      missed: null,
      order: 'created_desc',
      afterWork: null,
    });
  });

  it('issue 8 filters: ids as UUIDs (me, unassigned), axis values, utm_source, flags, order', () => {
    const D = '01936F5E-1234-7ABC-8DEF-0123456789AB';
    const me = '01936f5e-1234-7abc-8def-0000000000aa';
    const f = prepareListFilter(
      {
        ...empty,
        departmentIds: [D, D.toLowerCase()],
        assigneeIds: ['me', 'unassigned'],
        callerId: me,
        meanings: ['targeted'],
        qualifications: ['lead', 'not_lead'],
        contactAxes: ['verified'],
        numberAxes: ['repeat'],
        utmSource: ' Yandex ',
        slaBreached: true,
        missed: false,
        order: 'my_work',
      },
      'RU',
    );
    expect(f).toMatchObject({
      departmentIds: [D.toLowerCase()],
      assigneeFilter: true,
      assigneeIds: [me],
      includeUnassigned: true,
      meanings: ['targeted'],
      qualifications: ['lead', 'not_lead'],
      contactAxes: ['verified'],
      numberAxes: ['repeat'],
      utmSource: 'yandex',
      slaBreached: true,
      missed: false,
      order: 'my_work',
    });
    // `me` for a caller that is nobody's assignee (an API key) matches nothing.
    expect(prepareListFilter({ ...empty, assigneeIds: ['me'], callerId: 'key-1' }, 'RU')).toMatchObject({ assigneeFilter: true, assigneeIds: [], includeUnassigned: false });
  });

  it('issue 8 filters: malformed values are violations naming the field', () => {
    expect(violations({ departmentIds: ['x'], assigneeIds: ['bob'], projectIds: ['1'], meanings: [''], utmSource: 'u'.repeat(201), order: 'oldest' }).map((v) => v.field)).toEqual([
      'order',
      'department_ids[0]',
      'assignee_ids[0]',
      'project_ids[0]',
      'meanings[0]',
      'utm_source',
    ]);
    expect(violations({ departmentIds: Array.from({ length: 101 }, () => '01936f5e-1234-7abc-8def-0123456789ab') })).toEqual([{ field: 'department_ids', message: 'must have at most 100 values' }]);
  });

  it('my_work cursors round-trip and are not created_desc cursors', () => {
    const c = { notBreached: false, dueAt: '2026-12-01T10:00:00.000Z', createdAt: '2026-11-30T10:00:00.000Z', id: '01936f5e-1234-7abc-8def-0123456789ab' };
    expect(decodeWorkCursor(encodeWorkCursor(c))).toEqual(c);
    expect(decodeWorkCursor(encodeWorkCursor({ ...c, dueAt: null }))).toEqual({ ...c, dueAt: null });
    expect(prepareListFilter({ ...empty, order: 'my_work', cursor: encodeWorkCursor(c) }, 'RU').afterWork).toEqual(c);
    expect(violations({ order: 'my_work', cursor: encodeCursor({ createdAt: c.createdAt, id: c.id }) })[0].field).toBe('cursor');
    expect(violations({ cursor: encodeWorkCursor(c) })[0].field).toBe('cursor');
  });

  it('accepts filters and a cursor', () => {
    const cursor = { createdAt: '2026-11-27T10:00:00.000Z', id: '01936f5e-1234-7abc-8def-0123456789ab' };
    const f = prepareListFilter(
      { states: ['new', 'trash'], channels: ['web_form'], createdFrom: '2026-11-01T00:00:00Z', createdTo: '2026-12-01T00:00:00+03:00', query: ' Ivan ', pageSize: 100, cursor: encodeCursor(cursor) },
      'RU',
    );
    expect(f).toMatchObject({ states: ['new', 'trash'], channels: ['web_form'], pageSize: 100, after: cursor, query: { text: 'ivan', digits: null, phone: null } });
  });

  it('contact_id: a UUID, lower-cased; anything else is a violation on contact_id', () => {
    expect(prepareListFilter({ ...empty, contactId: ' 01936F5E-1234-7ABC-8DEF-0123456789AB ' }, 'RU').contactId).toBe('01936f5e-1234-7abc-8def-0123456789ab');
    expect(prepareListFilter({ ...empty, contactId: '' }, 'RU').contactId).toBeNull();
    expect(violations({ contactId: 'not-a-uuid' })).toEqual([{ field: 'contact_id', message: 'must be a UUID' }]);
  });

  it('page_size above 100 or negative is rejected, not clamped', () => {
    expect(violations({ pageSize: 101 })).toEqual([{ field: 'page_size', message: 'must be between 1 and 100 (0 means 25)' }]);
    expect(violations({ pageSize: -1 })).toEqual([{ field: 'page_size', message: 'must be between 1 and 100 (0 means 25)' }]);
  });

  it('rejects unknown states/channels, bad timestamps, an inverted range and a malformed cursor', () => {
    expect(violations({ states: ['new', ''], channels: [''] })).toEqual([
      { field: 'states[1]', message: 'is not a known state' },
      { field: 'channels[0]', message: 'is not a known channel' },
    ]);
    expect(violations({ createdFrom: '2026-11-01', createdTo: 'yesterday' })).toEqual([
      { field: 'created_from', message: 'must be an RFC 3339 timestamp' },
      { field: 'created_to', message: 'must be an RFC 3339 timestamp' },
    ]);
    // Timestamps PostgreSQL cannot read are violations too, not database errors (a fuzzer found the first).
    for (const bad of ['0402-04-08T12:44:59-18:11', '2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '2026-12-31T23:59:60Z', '2026-01-01T24:00:00Z']) {
      expect(violations({ createdFrom: bad })).toEqual([{ field: 'created_from', message: 'must be an RFC 3339 timestamp' }]);
    }
    expect(prepareListFilter({ ...empty, createdFrom: '0001-01-01T00:00:00Z', createdTo: '9999-12-31T23:59:59.999999Z' }, 'RU')).toMatchObject({ createdFrom: '0001-01-01T00:00:00Z' });
    expect(prepareListFilter({ ...empty, createdFrom: '2026-11-01T00:00:00-15:59' }, 'RU')).toMatchObject({ createdFrom: '2026-11-01T00:00:00-15:59' });
    expect(violations({ createdFrom: '2026-12-01T00:00:00Z', createdTo: '2026-11-01T00:00:00Z' })).toEqual([{ field: 'created_to', message: 'must not be before created_from' }]);
    expect(violations({ cursor: 'garbage!' })).toEqual([{ field: 'cursor', message: 'is malformed: pass the next_cursor of the previous page unchanged' }]);
    expect(violations({ query: 'q'.repeat(201) })).toEqual([{ field: 'query', message: 'must be at most 200 characters' }]);
  });
});

describe('searchQuery', () => {
  it('text is lower-cased; digits only for phone-like input', () => {
    expect(searchQuery('ИВАН', 'RU')).toEqual({ text: 'иван', digits: null, phone: null });
    expect(searchQuery('ivan1@example.com', 'RU')).toEqual({ text: 'ivan1@example.com', digits: null, phone: null });
    expect(searchQuery('123-45', 'RU')).toEqual({ text: '123-45', digits: '12345', phone: null });
  });

  it('a whole phone number in any format is also read as E.164', () => {
    expect(searchQuery('8 (999) 123-45-67', 'RU')).toMatchObject({ digits: '89991234567', phone: '+79991234567' });
    expect(searchQuery('+7 999 123 45 67', 'RU')).toMatchObject({ digits: '79991234567', phone: '+79991234567' });
  });
});

describe('escapeLike', () => {
  it('escapes LIKE wildcards and the escape character', () => {
    expect(escapeLike('50%_off\\')).toBe('50\\%\\_off\\\\');
  });
});
