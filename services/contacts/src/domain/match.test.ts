import { orderedPair, pickOwner, type OwnerCandidate } from './match';

const c = (id: string, created: string, verifiedMatch = false, phoneMatch = false): OwnerCandidate => ({ contactId: id, createdAt: new Date(created), verifiedMatch, phoneMatch });

describe('pickOwner (the match rule)', () => {
  it('prefers the owner of a verified matched point over an older one with the phone', () => {
    expect(pickOwner([c('a', '2020-01-01T00:00:00Z', false, true), c('b', '2024-01-01T00:00:00Z', true, false)]).contactId).toBe('b');
  });
  it('else prefers the owner of the phone over an older e-mail owner', () => {
    expect(pickOwner([c('a', '2020-01-01T00:00:00Z'), c('b', '2024-01-01T00:00:00Z', false, true)]).contactId).toBe('b');
  });
  it('else takes the oldest', () => {
    expect(pickOwner([c('b', '2024-01-01T00:00:00Z'), c('a', '2020-01-01T00:00:00Z'), c('z', '2022-01-01T00:00:00Z')]).contactId).toBe('a');
  });
  it('narrows step by step: among verified owners the phone owner, among those the oldest', () => {
    const got = pickOwner([c('x', '2019-01-01T00:00:00Z', true), c('y', '2023-01-01T00:00:00Z', true, true), c('w', '2021-01-01T00:00:00Z', true, true), c('v', '2018-01-01T00:00:00Z', false, true)]);
    expect(got.contactId).toBe('w');
  });
  it('breaks a tie of equal times by id, whatever the input order', () => {
    const a = c('0001', '2024-01-01T00:00:00Z');
    const b = c('0002', '2024-01-01T00:00:00Z');
    expect(pickOwner([b, a]).contactId).toBe('0001');
    expect(pickOwner([a, b]).contactId).toBe('0001');
  });
  it('refuses no candidates', () => expect(() => pickOwner([])).toThrow());
});

describe('orderedPair', () => {
  it('puts the smaller id first', () => {
    expect(orderedPair('b', 'a')).toEqual(['a', 'b']);
    expect(orderedPair('a', 'b')).toEqual(['a', 'b']);
  });
});
