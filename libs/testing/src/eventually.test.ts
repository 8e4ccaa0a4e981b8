import { eventually, uniqueName } from './index';

describe('eventually', () => {
  it('returns once the probe succeeds', async () => {
    let n = 0;
    await expect(eventually(() => ++n, { until: (v) => v >= 3, intervalMs: 1 })).resolves.toBe(3);
  });

  it('fails with the last error after the timeout', async () => {
    await expect(
      eventually(
        () => {
          throw new Error('not yet');
        },
        { timeoutMs: 50, intervalMs: 5, message: 'row visible' },
      ),
    ).rejects.toThrow(/row visible not met within 50 ms \(last error: not yet\)/);
  });
});

describe('uniqueName', () => {
  it('is unique and safe as a database or topic name', () => {
    const a = uniqueName('Outbox-Test');
    const b = uniqueName('Outbox-Test');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[a-z0-9_]+$/);
  });
});
