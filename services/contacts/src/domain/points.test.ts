import { PointType, ProvenanceKind, type PointInput } from '@crm/contracts/crm/contacts/v1/contacts';
import { DomainError } from '@crm/errors';
import { POINTS_MAX, prepareCountry, preparePoints, prepareProvenance } from './points';

const phone = (value: string, verified = false): PointInput => ({ type: PointType.POINT_TYPE_PHONE, value, network: '', verified });
const email = (value: string): PointInput => ({ type: PointType.POINT_TYPE_EMAIL, value, network: '', verified: false });
const social = (network: string, value: string): PointInput => ({ type: PointType.POINT_TYPE_SOCIAL, value, network, verified: false });

function violations(fn: () => unknown): { field: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError && err.code === 'INVALID_ARGUMENT') return err.violations;
    throw err;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('preparePoints', () => {
  it('normalises, keeps one of the same point (verified if any copy is) and sorts', () => {
    const got = preparePoints([email('A@B.ru'), phone('8 (999) 123-45-67'), phone('+79991234567', true), social('Telegram', '@Ivan')], 'RU');
    expect(got).toEqual([
      { type: 'email', value: 'a@b.ru', network: null, digits: null, verified: false },
      { type: 'phone', value: '+79991234567', network: null, digits: '79991234567', verified: true },
      { type: 'social', value: 'telegram:ivan', network: 'telegram', digits: null, verified: false },
    ]);
  });
  it('lists every invalid point by its index', () => {
    expect(violations(() => preparePoints([phone('123'), email('ok@example.com'), email('nope'), social('myspace', 'x'), { type: PointType.POINT_TYPE_UNSPECIFIED, value: 'x', network: '', verified: false }], 'RU')).map((v) => v.field)).toEqual([
      'points[0].value',
      'points[2].value',
      'points[3].network',
      'points[4].type',
    ]);
  });
  it(`refuses more than ${POINTS_MAX} points and fewer than the minimum`, () => {
    expect(violations(() => preparePoints(Array.from({ length: POINTS_MAX + 1 }, (_, i) => email(`a${i}@example.com`)), 'RU'))[0].field).toBe('points');
    expect(violations(() => preparePoints([], 'RU', { min: 1 }))[0].field).toBe('points');
  });
});

describe('prepareCountry / prepareProvenance', () => {
  it('takes the call country in any case or the default', () => {
    expect(prepareCountry('kz', 'RU')).toBe('KZ');
    expect(prepareCountry('', 'RU')).toBe('RU');
    expect(violations(() => prepareCountry('XX', 'RU'))[0].field).toBe('default_country');
  });
  it('defaults to the calling user', () => {
    expect(prepareProvenance(undefined, 'u1')).toEqual({ kind: 'user', ref: 'u1' });
    expect(prepareProvenance({ kind: ProvenanceKind.PROVENANCE_KIND_REQUEST, refId: ' r1 ' }, 'u1')).toEqual({ kind: 'request', ref: 'r1' });
    expect(violations(() => prepareProvenance({ kind: 99 as ProvenanceKind, refId: '' }, 'u1'))[0].field).toBe('provenance.kind');
  });
});
