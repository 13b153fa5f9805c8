import { describePlan, managedConfig, planTopics, TopicSettings, TopicState } from './topic-plan';

const settings = (over: Partial<TopicSettings> = {}): TopicSettings => ({
  name: 't1',
  partitions: 6,
  replicationFactor: 3,
  retentionMs: 86_400_000,
  maxMessageBytes: 1_048_576,
  ...over,
});
const state = (over: Partial<TopicState> = {}): TopicState => ({
  name: 't1',
  partitions: 6,
  replicationFactor: 3,
  dynamicConfig: {},
  hiddenConfig: [],
  ...over,
});

describe('planTopics', () => {
  it('creates a missing topic with min.insync.replicas 2 at replication 3, 1 below', () => {
    const plan = planTopics([settings(), settings({ name: 't2', replicationFactor: 1 })], []);
    expect(plan.entries.map((e) => e.action)).toEqual(['create', 'create']);
    const [a, b] = plan.entries;
    expect(a.action === 'create' && a.config['min.insync.replicas']).toBe('2');
    expect(b.action === 'create' && b.config['min.insync.replicas']).toBe('1');
  });

  it('keeps every dynamic setting it does not manage and overrides only its own', () => {
    const plan = planTopics(
      [settings()],
      [state({ dynamicConfig: { 'segment.ms': '3600000', 'retention.ms': '1' } })],
    );
    const e = plan.entries[0];
    if (e.action === 'create') throw new Error('expected alter');
    expect(e.action).toBe('alter');
    expect(e.mergedConfig['segment.ms']).toBe('3600000');
    expect(e.mergedConfig['retention.ms']).toBe('86400000');
    expect(e.changes.map((c) => c.name).sort()).toEqual(
      [
        'cleanup.policy',
        'max.message.bytes',
        'min.insync.replicas',
        'retention.ms',
        'unclean.leader.election.enable',
      ].sort(),
    );
    expect(describePlan(plan).join('\n')).toContain('kept as found: segment.ms');
  });

  it('is unchanged when the managed settings already match', () => {
    const plan = planTopics([settings()], [state({ dynamicConfig: managedConfig(settings()) })]);
    expect(plan.entries[0].action).toBe('unchanged');
  });

  it('refuses a partition increase unless allowed, and never plans a decrease', () => {
    expect(planTopics([settings()], [state({ partitions: 3 })]).refused).toEqual([
      { topic: 't1', from: 3, to: 6 },
    ]);
    expect(
      planTopics([settings()], [state({ partitions: 3 })], { allowPartitionIncrease: true }).refused,
    ).toEqual([]);
    const fewer = planTopics([settings({ partitions: 2 })], [state()]).entries[0];
    expect(fewer.action !== 'create' && fewer.partitions).toBeUndefined();
  });

  it('refuses a min ISR above the replication factor, naming the topic', () => {
    expect(() => planTopics([settings({ minInsyncReplicas: 4 })], [])).toThrow(/t1: min.insync.replicas 4/);
    expect(() => planTopics([settings()], [state({ replicationFactor: 1 })])).toThrow(/actual replication 1/);
  });

  it('refuses to drop a sensitive setting it cannot read back', () => {
    expect(() => planTopics([settings()], [state({ hiddenConfig: ['some.secret'] })])).toThrow(
      /some.secret are sensitive/,
    );
  });
});
