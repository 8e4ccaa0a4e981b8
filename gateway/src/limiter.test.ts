import { FixedWindowLimiter } from './limiter';

describe('FixedWindowLimiter', () => {
  it('allows the limit per window and then says how long to wait', () => {
    const l = new FixedWindowLimiter(2, 60_000);
    expect(l.hit('a', 0)).toBe(0);
    expect(l.hit('a', 1000)).toBe(0);
    expect(l.hit('a', 2000)).toBe(58);
    expect(l.hit('b', 2000)).toBe(0);
    expect(l.hit('a', 60_000)).toBe(0);
  });
});
