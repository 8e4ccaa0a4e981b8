import { lanesOf } from './backfill';

const r = (tenant_id: string, phone: string | null, email: string | null) => ({ tenant_id, phone, email });

describe('lanesOf', () => {
  it('requests sharing a phone or an e-mail (also through a third) are one lane, in order; lanes by their oldest', () => {
    const due = [
      r('t', '+79990000001', null), // 0: person 1
      r('t', null, 'b@x.ru'), // 1: person 2
      r('t', '+79990000001', 'a@x.ru'), // 2: person 1 (phone), brings a@x.ru
      r('t', null, 'a@x.ru'), // 3: person 1 through 2's e-mail
      r('t', '+79990000009', 'b@x.ru'), // 4: person 2
      r('t', null, null), // 5: no points
    ];
    expect(lanesOf(due)).toEqual([[0, 2, 3], [1, 4], [5]]);
  });

  it('the same point in two tenants is two people', () => {
    expect(lanesOf([r('a', '+79990000001', null), r('b', '+79990000001', null), r('a', '+79990000001', null)])).toEqual([[0, 2], [1]]);
  });

  it('joins lanes that meet late, keeping the order', () => {
    const due = [r('t', '+79990000001', null), r('t', '+79990000002', null), r('t', '+79990000003', null), r('t', '+79990000002', 'x@x.ru'), r('t', '+79990000001', 'x@x.ru')];
    expect(lanesOf(due)).toEqual([[0, 1, 3, 4], [2]]);
  });
});
