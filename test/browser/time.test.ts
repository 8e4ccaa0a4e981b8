/**
 * The web UI's time helpers (web/src/time.ts) and the journal's date filters in the tenant's zone,
 * run under Node (its ICU has the same zone rules as the browser's).
 */
import { NO_FILTERS, matchesLocally, toApiFilters } from '../../web/src/filters';
import { dayInZone, formatInZone, isKnownTimeZone, zonedMidnight, zoneLabel } from '../../web/src/time';

describe('formatInZone', () => {
  it("shows an instant as the tenant's wall-clock time", () => {
    // 20:30 and 21:30 UTC are 23:30 on March 1st and 00:30 on March 2nd in Moscow (UTC+3).
    expect(formatInZone('2026-03-01T20:30:00Z', 'Europe/Moscow', 'ru', 'short')).toBe('01.03.2026 23:30');
    expect(formatInZone('2026-03-01T21:30:00Z', 'Europe/Moscow', 'ru', 'short')).toBe('02.03.2026 00:30');
    expect(formatInZone('2026-03-01T21:30:00Z', 'UTC', 'en', 'short')).toBe('01/03/2026 21:30');
    expect(formatInZone('2026-03-01T21:30:00Z', 'Europe/Moscow', 'en', 'medium')).toBe('2 Mar 2026, 00:30');
  });

  it('follows DST: the same UTC hour is an hour apart in Berlin across the March change', () => {
    expect(formatInZone('2026-03-28T12:00:00Z', 'Europe/Berlin', 'en', 'short')).toBe('28/03/2026 13:00');
    expect(formatInZone('2026-03-29T12:00:00Z', 'Europe/Berlin', 'en', 'short')).toBe('29/03/2026 14:00');
  });

  it('shows text that is not a time as it is, and survives a zone the runtime does not know', () => {
    expect(formatInZone('not a time', 'Europe/Moscow', 'ru')).toBe('not a time');
    expect(isKnownTimeZone('Mars/Olympus')).toBe(false);
    expect(formatInZone('2026-03-01T21:30:00Z', 'Mars/Olympus', 'en', 'short')).toMatch(/^\d\d\/\d\d\/2026 \d\d:30$/);
  });
});

describe('zone helpers', () => {
  it('labels a zone with the offset in force', () => {
    expect(zoneLabel('Europe/Moscow', new Date('2026-03-01T00:00:00Z'))).toBe('Europe/Moscow (GMT+3)');
    expect(zoneLabel('Europe/Berlin', new Date('2026-07-01T00:00:00Z'))).toBe('Europe/Berlin (GMT+2)');
  });

  it("finds local midnights, a DST day being 23 or 25 hours long", () => {
    expect(zonedMidnight('2026-03-02', 'Europe/Moscow').toISOString()).toBe('2026-03-01T21:00:00.000Z');
    const start = zonedMidnight('2026-03-29', 'Europe/Berlin').getTime();
    expect(zonedMidnight('2026-03-29', 'Europe/Berlin', 1).getTime() - start).toBe(23 * 3600_000);
    const octStart = zonedMidnight('2026-10-25', 'Europe/Berlin').getTime();
    expect(zonedMidnight('2026-10-25', 'Europe/Berlin', 1).getTime() - octStart).toBe(25 * 3600_000);
  });

  it("knows today's date in a zone", () => {
    const now = new Date('2026-03-01T21:30:00Z');
    expect(dayInZone('Europe/Moscow', 0, now)).toBe('2026-03-02');
    expect(dayInZone('UTC', 0, now)).toBe('2026-03-01');
    expect(dayInZone('Europe/Moscow', -6, now)).toBe('2026-02-24');
  });
});

describe("journal date filters in the tenant's zone", () => {
  const request = (created_at: string) =>
    ({ id: 'x', state: 'new', channel: 'phone', created_at }) as unknown as Parameters<typeof matchesLocally>[0];

  it("bounds a day by the tenant's midnights", () => {
    const api = toApiFilters({ ...NO_FILTERS, from: '2026-03-02', to: '2026-03-02' }, 'Europe/Moscow');
    expect(api).toMatchObject({ createdFrom: '2026-03-01T21:00:00.000Z', createdTo: '2026-03-02T21:00:00.000Z' });
    // 00:30 Moscow on March 2nd is in; 23:30 Moscow on March 1st is not, though both are March 1st in UTC.
    expect(matchesLocally(request('2026-03-01T21:30:00Z'), { ...NO_FILTERS, from: '2026-03-02', to: '2026-03-02' }, 'Europe/Moscow')).toBe(true);
    expect(matchesLocally(request('2026-03-01T20:30:00Z'), { ...NO_FILTERS, from: '2026-03-02', to: '2026-03-02' }, 'Europe/Moscow')).toBe(false);
  });
});
