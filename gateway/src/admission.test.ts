import { Admission } from './admission';

describe('Admission', () => {
  it('sheds reads first, then writes, and keeps the last slots for public intake', () => {
    const a = new Admission({ maxInFlight: 10, maxEventLoopDelayMs: 10_000 });
    try {
      const taken = { read: 0, write: 0, public: 0 };
      while (a.tryAdmit('read')) taken.read += 1;
      while (a.tryAdmit('write')) taken.write += 1;
      while (a.tryAdmit('public')) taken.public += 1;
      expect(taken).toEqual({ read: 5, write: 3, public: 2 });
      expect(a.current).toBe(10);
      // A released slot serves the class whose share has room again.
      a.release();
      expect(a.tryAdmit('read')).toBe(false);
      expect(a.tryAdmit('write')).toBe(false);
      expect(a.tryAdmit('public')).toBe(true);
      for (let i = 0; i < 10; i++) a.release();
      expect(a.current).toBe(0);
      expect(a.tryAdmit('read')).toBe(true);
    } finally {
      a.close();
    }
  });

  it('caps sign-in steps at a quarter, so a guessing flood cannot shed the reads of people already signed in', () => {
    const a = new Admission({ maxInFlight: 20, maxEventLoopDelayMs: 10_000 });
    try {
      let logins = 0;
      while (a.tryAdmit('sign_in')) logins += 1;
      expect(logins).toBe(5);
      let reads = 0;
      while (a.tryAdmit('read')) reads += 1;
      expect(reads).toBe(5);
      expect(a.tryAdmit('sign_in')).toBe(false);
      expect(a.tryAdmit('write')).toBe(true);
    } finally {
      a.close();
    }
  });

  it('a delay before the server is ready (its start-up) is forgotten', async () => {
    const a = new Admission({ maxInFlight: 100, maxEventLoopDelayMs: 50, sampleMs: 100 });
    try {
      const until = Date.now() + 250;
      while (Date.now() < until) {
        // the start-up's schema compilation
      }
      a.resetDelay();
      await new Promise((r) => setTimeout(r, 150));
      expect(a.tryAdmit('write')).toBe(true);
      a.release();
    } finally {
      a.close();
    }
  });

  it('a late event loop sheds reads and writes but not public intake', async () => {
    const a = new Admission({ maxInFlight: 100, maxEventLoopDelayMs: 50, sampleMs: 100 });
    try {
      const until = Date.now() + 250;
      while (Date.now() < until) {
        // block the event loop for a quarter of a second
      }
      await new Promise((r) => setTimeout(r, 150));
      expect(a.tryAdmit('read')).toBe(false);
      expect(a.tryAdmit('write')).toBe(false);
      expect(a.tryAdmit('public')).toBe(true);
      a.release();
      await new Promise((r) => setTimeout(r, 300)); // past the two samples the late one sheds for
      expect(a.tryAdmit('read')).toBe(true);
      a.release();
    } finally {
      a.close();
    }
  });
});
