import { DepartmentKind } from '@crm/contracts/crm/identity/v1/team';
import {
  checkIdList,
  checkKind,
  checkProjectCode,
  checkSchedule,
  checkSla,
  decodeKeyset,
  effectiveSchedule,
  encodeKeyset,
  isAwayAt,
  isOnShift,
  kindToWire,
  likePattern,
  parseInstant,
} from './team';
import { Violations } from './validation';

const MOSCOW_WEEKDAYS = {
  timeZone: 'Europe/Moscow',
  hours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, from: '09:00', to: '18:00' })),
  holidays: ['2026-12-31'],
};

describe('parseInstant', () => {
  it('accepts RFC 3339 with a zone and refuses everything else', () => {
    expect(parseInstant('2026-12-01T09:00:00Z')?.toISOString()).toBe('2026-12-01T09:00:00.000Z');
    expect(parseInstant('2026-12-01T12:00:00.5+03:00')?.toISOString()).toBe('2026-12-01T09:00:00.500Z');
    expect(parseInstant('2026-12-01t09:00z')?.toISOString()).toBe('2026-12-01T09:00:00.000Z');
    for (const bad of ['', '2026-12-01', '2026-12-01T09:00:00', '2026-02-31T09:00:00Z', '2026-13-01T00:00:00Z', '2026-12-01T24:00:00Z', 'now', '1999-12-31T23:59:59Z', '2026-12-01T09:00:00+25:00'])
      expect(parseInstant(bad)).toBeNull();
  });
});

describe('checkSchedule', () => {
  it('names each bad entry under schedule.* and canonicalises the zone', () => {
    const v = new Violations();
    const s = checkSchedule(
      v,
      'schedule',
      {
        timeZone: 'europe/moscow',
        hours: [
          { weekday: 1, from: '09:00', to: '13:00' },
          { weekday: 1, from: '12:00', to: '18:00' },
          { weekday: 2, from: '18:00', to: '09:00' },
          { weekday: 8, from: '09:00', to: '10:00' },
        ],
        holidays: ['2026-02-30'],
      },
      'UTC',
    );
    expect(s.timeZone).toBe('Europe/Moscow');
    expect(v.list.map((x) => x.field)).toEqual(['schedule.hours[1]', 'schedule.hours[2].to', 'schedule.hours[3].weekday', 'schedule.holidays[0]']);
  });

  it('reports an unknown zone once and keeps an empty zone (the tenant’s)', () => {
    const v = new Violations();
    checkSchedule(v, 'schedule', { timeZone: 'Mars/Base', hours: [], holidays: [] }, 'UTC');
    expect(v.list).toEqual([{ field: 'schedule.time_zone', message: 'unknown time zone "Mars/Base"' }]);
    const ok = new Violations();
    expect(checkSchedule(ok, 'schedule', { ...MOSCOW_WEEKDAYS, timeZone: '' }, 'Europe/Moscow').timeZone).toBe('');
    expect(ok.list).toEqual([]);
    expect(checkSchedule(ok, 'schedule', undefined, 'UTC')).toEqual({ timeZone: '', hours: [], holidays: [] });
    expect(effectiveSchedule({ timeZone: '', hours: [], holidays: [] }, 'Asia/Tokyo').timeZone).toBe('Asia/Tokyo');
  });
});

describe('small checks', () => {
  it('kinds, SLA, project codes, id lists', () => {
    const v = new Violations();
    expect(checkKind(v, 'kind', DepartmentKind.DEPARTMENT_KIND_UNSPECIFIED, 'sales')).toBe('sales');
    expect(checkKind(v, 'kind', DepartmentKind.DEPARTMENT_KIND_UNSPECIFIED)).toBeUndefined();
    expect(checkKind(v, 'kind', DepartmentKind.DEPARTMENT_KIND_SUPPORT)).toBe('support');
    expect(kindToWire('service')).toBe(DepartmentKind.DEPARTMENT_KIND_SERVICE);
    expect(v.list).toEqual([]);
    checkKind(v, 'kind', 99 as DepartmentKind);
    checkSla(v, 'sla', -1);
    checkSla(v, 'sla', 10_081);
    checkSla(v, 'sla', 10_080);
    checkProjectCode(v, 'code', 'Main');
    checkProjectCode(v, 'code', 'a'.repeat(33));
    checkProjectCode(v, 'code', 'main-2');
    const ids = checkIdList(v, 'department_ids', ['0193a4b2-0000-7000-8000-000000000001', '0193A4B2-0000-7000-8000-000000000001', 'x']);
    expect(ids).toEqual(['0193a4b2-0000-7000-8000-000000000001']);
    expect(v.list.map((x) => x.field)).toEqual(['kind', 'sla', 'sla', 'code', 'code', 'department_ids[2]']);
    const many = new Violations();
    checkIdList(many, 'ids', Array.from({ length: 51 }, () => '0193a4b2-0000-7000-8000-000000000001'));
    expect(many.list.map((x) => x.field)).toEqual(['ids']);
  });

  it('LIKE patterns and cursors', () => {
    expect(likePattern('50%_a\\b')).toBe('%50\\%\\_a\\\\b%');
    const c = encodeKeyset('tu', '["Ivan","id"]');
    expect(decodeKeyset('tu', c)).toBe('["Ivan","id"]');
    expect(decodeKeyset('a', c)).toBeNull();
    expect(decodeKeyset('tu', 'x'.repeat(700))).toBeNull();
  });
});

describe('away and on shift', () => {
  const at = new Date('2026-12-01T10:00:00Z'); // Tuesday 13:00 in Moscow

  it('away counts until away_until', () => {
    expect(isAwayAt(true, null, at)).toBe(true);
    expect(isAwayAt(true, new Date('2026-12-01T10:00:01Z'), at)).toBe(true);
    expect(isAwayAt(true, new Date('2026-12-01T10:00:00Z'), at)).toBe(false);
    expect(isAwayAt(false, null, at)).toBe(false);
  });

  it('a shift decides the day; without one the primary department’s hours do', () => {
    const schedule = effectiveSchedule(MOSCOW_WEEKDAYS, 'UTC');
    // No shift: open hours.
    expect(isOnShift([], schedule, 'UTC', at)).toBe(true);
    expect(isOnShift([], schedule, 'UTC', new Date('2026-12-01T16:00:00Z'))).toBe(false); // 19:00 Moscow
    expect(isOnShift([], schedule, 'UTC', new Date('2026-12-31T10:00:00Z'))).toBe(false); // holiday
    // A shift that day, not now: off duty even though the department is open.
    const evening = { startsAt: new Date('2026-12-01T15:00:00Z'), endsAt: new Date('2026-12-01T20:00:00Z') };
    expect(isOnShift([evening], schedule, 'UTC', at)).toBe(false);
    expect(isOnShift([evening], schedule, 'UTC', new Date('2026-12-01T16:00:00Z'))).toBe(true);
    expect(isOnShift([evening], schedule, 'UTC', new Date('2026-12-01T20:00:00Z'))).toBe(false); // end is exclusive
    // A shift on another local day does not count for today.
    const yesterday = { startsAt: new Date('2026-11-30T06:00:00Z'), endsAt: new Date('2026-11-30T14:00:00Z') };
    expect(isOnShift([yesterday], schedule, 'UTC', at)).toBe(true);
    // No department: around the clock unless a shift says otherwise.
    expect(isOnShift([], null, 'Europe/Moscow', at)).toBe(true);
    expect(isOnShift([evening], null, 'Europe/Moscow', at)).toBe(false);
  });
});
