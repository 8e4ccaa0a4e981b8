/**
 * Unit tests of the team settings pages' pure logic (no browser): which schedule interval a server
 * violation names, weeks of the shift view, the tenant's wall clock ↔ instants, the embed snippet and
 * the audit details. Beside web-logic.test.ts for the same reason (Jest's roots do not include web/).
 */
import { addDays, detailsText, embedSnippet, intervalOfField, mondayOf, parseNames } from '../../web/src/features/settings/logic';
import { dayOf, isoToWall, timeInZone, wallToIso } from '../../web/src/features/settings/zone';

describe('a violation of the schedule', () => {
  it('names the interval and its part, however the field is spelled', () => {
    expect(intervalOfField('schedule.hours[2].to')).toEqual({ index: 2, part: 'to' });
    expect(intervalOfField('hours[0].from')).toEqual({ index: 0, part: 'from' });
    expect(intervalOfField('hours.11.weekday')).toEqual({ index: 11, part: 'weekday' });
    expect(intervalOfField('schedule.hours[3]')).toEqual({ index: 3, part: '' });
  });

  it('is not about an interval otherwise', () => {
    expect(intervalOfField('schedule.time_zone')).toBeNull();
    expect(intervalOfField('schedule.holidays[0]')).toBeNull();
    expect(intervalOfField('workhours[1].to')).toBeNull();
  });
});

describe('weeks of the shift view', () => {
  it('starts on Monday', () => {
    expect(mondayOf('2026-12-01')).toBe('2026-11-30'); // a Tuesday
    expect(mondayOf('2026-11-30')).toBe('2026-11-30');
    expect(mondayOf('2026-12-06')).toBe('2026-11-30'); // a Sunday
    expect(mondayOf('2027-01-01')).toBe('2026-12-28'); // across the year
  });

  it('adds days across months and years', () => {
    expect(addDays('2026-12-28', 7)).toBe('2027-01-04');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });
});

describe("the tenant's wall clock", () => {
  it('reads a datetime-local value in the zone, across DST', () => {
    expect(wallToIso('2026-12-01T09:00', 'Europe/Moscow')).toBe('2026-12-01T06:00:00.000Z');
    expect(wallToIso('2026-07-01T09:00', 'Europe/Berlin')).toBe('2026-07-01T07:00:00.000Z');
    expect(wallToIso('2026-12-01T09:00', 'Europe/Berlin')).toBe('2026-12-01T08:00:00.000Z');
    expect(wallToIso('not a time', 'UTC')).toBe('');
  });

  it('shows an instant in the zone', () => {
    expect(isoToWall('2026-12-01T21:30:00Z', 'Europe/Moscow')).toBe('2026-12-02T00:30');
    expect(dayOf('2026-12-01T21:30:00Z', 'Europe/Moscow')).toBe('2026-12-02');
    expect(dayOf('2026-12-01T21:30:00Z', 'UTC')).toBe('2026-12-01');
    expect(timeInZone('2026-12-01T06:00:00Z', 'Asia/Vladivostok')).toBe('16:00');
  });
});

describe('the embed snippet', () => {
  it("posts to the form's public endpoint with its own first field names", () => {
    const s = embedSnippet('https://crm.example', 'pf_abc', { name: ['fio', 'name'], phone: ['tel'], email: [], message: [] });
    expect(s).toContain('action="https://crm.example/v1/forms/pf_abc/submissions"');
    expect(s).toContain('name="fio"');
    expect(s).toContain('name="tel"');
    expect(s).toContain('name="email"');
    expect(s).toContain('name="message"');
  });

  it('escapes what it puts into attributes', () => {
    expect(embedSnippet('https://x', 'pf_1', { name: ['a"><script>'] })).not.toContain('<script>');
  });
});

describe('field names and audit details', () => {
  it('parses a comma-separated list', () => {
    expect(parseNames(' fio, Name ,,fio ')).toEqual(['fio', 'Name']);
    expect(parseNames('')).toEqual([]);
  });

  it('shows what changed in one bounded line', () => {
    expect(detailsText({ details: {} })).toBe('');
    expect(detailsText({ details: { after: { away: true } } })).toBe('{"after":{"away":true}}');
    expect(detailsText({ details: { x: 'y'.repeat(1000) } }).length).toBe(301);
  });
});
