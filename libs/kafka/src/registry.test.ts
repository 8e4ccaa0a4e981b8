import { join } from 'node:path';
import { loadRegistry, parseTopicSpec, RegistryError, retentionMs } from './registry';

describe('topic registry', () => {
  it('loads the real registry of the repository', () => {
    const specs = loadRegistry(join(__dirname, '..', '..', '..', 'proto', 'topics'));
    expect(specs.map((s) => s.name)).toContain('crm.testkit.item.v1');
    for (const s of specs) expect(s.partitions).toBeGreaterThan(0);
  });

  it('rejects unknown keys, bad names, bad retention and payloads of another topic, all at once', () => {
    expect(() =>
      parseTopicSpec(
        { name: 'intake.request', owner: 'intake', payload: { 'crm.other.x.created.v1': 'nope' }, partitions: 0, retention: '7 days', colour: 'red' },
        'bad.yaml',
      ),
    ).toThrow(RegistryError);
    const call = () =>
      parseTopicSpec(
        { name: 'crm.intake.request.v1', owner: 'funnel', payload: { 'crm.intake.request.created.v1': 'crm.intake.events.v1.RequestCreated' }, partitions: 3, retention: '7d', colour: 1 },
        'f.yaml',
      );
    expect(call).toThrow(/unknown key "colour"/);
    expect(call).toThrow(/owner "funnel" does not match/);
  });

  it('converts retention', () => {
    expect(retentionMs('7d')).toBe(604_800_000);
    expect(retentionMs('30m')).toBe(1_800_000);
    expect(retentionMs('-1')).toBe(-1);
  });
});
