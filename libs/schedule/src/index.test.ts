import { addBusinessMinutes, isOpen, localDay, nextOpening, validateSchedule, type Schedule } from './index';

const moscow: Schedule = {
  timeZone: 'Europe/Moscow',
  hours: [1, 2, 3, 4, 5].flatMap((weekday) => [
    { weekday, from: '09:00', to: '13:00' },
    { weekday, from: '14:00', to: '18:00' },
  ]),
  holidays: ['2026-12-31'],
};

describe('schedule', () => {
  it('names overlapping, inverted and malformed entries', () => {
    const v = validateSchedule({
      timeZone: 'Mars/Olympus',
      hours: [
        { weekday: 1, from: '09:00', to: '12:00' },
        { weekday: 1, from: '11:00', to: '13:00' },
        { weekday: 2, from: '18:00', to: '09:00' },
        { weekday: 8, from: '09:00', to: '10:00' },
        { weekday: 3, from: '9am', to: '25:00' },
      ],
      holidays: ['2026-02-30', '2026-01-01', '2026-01-01'],
    }).map((x) => x.field);
    expect(v).toEqual(['time_zone', 'hours[1]', 'hours[2].to', 'hours[3].weekday', 'hours[4].from', 'hours[4].to', 'holidays[0]', 'holidays[2]']);
    expect(validateSchedule(moscow)).toEqual([]);
  });

  it('is open in working hours of its zone only, not on holidays or at lunch', () => {
    expect(isOpen(moscow, new Date('2026-12-01T07:00:00Z'))).toBe(true); // Tue 10:00 MSK
    expect(isOpen(moscow, new Date('2026-12-01T10:30:00Z'))).toBe(false); // 13:30 lunch
    expect(isOpen(moscow, new Date('2026-12-01T15:00:00Z'))).toBe(false); // 18:00 closed
    expect(isOpen(moscow, new Date('2026-12-05T08:00:00Z'))).toBe(false); // Saturday
    expect(isOpen(moscow, new Date('2026-12-31T08:00:00Z'))).toBe(false); // holiday
    expect(isOpen({ timeZone: 'UTC', hours: [], holidays: [] }, new Date())).toBe(true);
  });

  it('counts SLA minutes in business time across lunch, nights, weekends and holidays', () => {
    // Tue 12:50 MSK + 15 min → 10 before lunch, 5 after: 14:05 MSK.
    expect(addBusinessMinutes(moscow, new Date('2026-12-01T09:50:00Z'), 15)!.toISOString()).toBe('2026-12-01T11:05:00.000Z');
    // Fri 17:55 MSK + 15 → Mon 09:10 MSK.
    expect(addBusinessMinutes(moscow, new Date('2026-12-04T14:55:00Z'), 15)!.toISOString()).toBe('2026-12-07T06:10:00.000Z');
    // Wed 30 Dec 17:50 + 30 → 31st is a holiday → Fri 1 Jan 09:20.
    expect(addBusinessMinutes(moscow, new Date('2026-12-30T14:50:00Z'), 30)!.toISOString()).toBe('2027-01-01T06:20:00.000Z');
    expect(addBusinessMinutes({ timeZone: 'UTC', hours: [], holidays: [] }, new Date('2026-12-01T00:00:00Z'), 15)!.toISOString()).toBe('2026-12-01T00:15:00.000Z');
    expect(nextOpening(moscow, new Date('2026-12-05T08:00:00Z'))!.toISOString()).toBe('2026-12-07T06:00:00.000Z');
  });

  it('keeps wall time across a DST change (Europe/Berlin, 29 March 2026)', () => {
    const berlin: Schedule = { timeZone: 'Europe/Berlin', hours: [{ weekday: 7, from: '01:00', to: '05:00' }, { weekday: 1, from: '09:00', to: '10:00' }], holidays: [] };
    // Sunday 01:00 CET (00:00Z) + 60 minutes of working time: real minutes, whatever the clock shows.
    expect(addBusinessMinutes(berlin, new Date('2026-03-29T00:00:00Z'), 60)!.toISOString()).toBe('2026-03-29T01:00:00.000Z');
    expect(localDay('Europe/Berlin', new Date('2026-03-28T23:30:00Z'))).toBe('2026-03-29');
  });
});
