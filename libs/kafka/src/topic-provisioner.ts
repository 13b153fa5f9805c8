import { Admin, ConfigResourceTypes, ConfigSource, ITopicConfig } from 'kafkajs';
import { TOPIC_CATALOGUE, TopicNames, TopicRole } from '@libs/contracts';
import { planTopics, TopicPlan, TopicSettings, TopicState } from './topic-plan';

export * from './topic-plan';

/**
 * Per-topic settings from the catalogue, overridable by TOPIC_<ROLE>_PARTITIONS / _RETENTION_DAYS,
 * TOPIC_REPLICATION_FACTOR and TOPIC_MIN_INSYNC_REPLICAS.
 */
export function topicSettingsFromEnv(
  names: TopicNames,
  env: Record<string, string | undefined> = process.env,
): TopicSettings[] {
  const num = (name: string, fallback: number | undefined) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
    return n;
  };
  const replicationFactor = num('TOPIC_REPLICATION_FACTOR', 1) as number;
  const maxMessageBytes = num('KAFKA_MAX_MESSAGE_BYTES', 1_048_576) as number;
  const minInsyncReplicas = num('TOPIC_MIN_INSYNC_REPLICAS', undefined);
  return (Object.keys(TOPIC_CATALOGUE) as TopicRole[]).map((role) => {
    const spec = TOPIC_CATALOGUE[role];
    const upper = spec.envVar;
    return {
      name: names[role],
      partitions: num(`${upper}_PARTITIONS`, spec.partitions) as number,
      replicationFactor,
      retentionMs: (num(`${upper}_RETENTION_DAYS`, spec.retentionDays) as number) * 86_400_000,
      maxMessageBytes,
      minInsyncReplicas,
    };
  });
}

export interface ProvisionOptions {
  /** Compute and return the plan; change nothing. */
  dryRun?: boolean;
  /** Raise partition counts of existing (keyed) topics; keys move, see the CLI's help. */
  allowPartitionIncrease?: boolean;
}

export interface ProvisionReport {
  created: string[];
  updated: string[];
  unchanged: string[];
  plan: TopicPlan;
  dryRun: boolean;
}

export class PartitionIncreaseRefusedError extends Error {
  override readonly name = 'PartitionIncreaseRefusedError';
  constructor(readonly refused: TopicPlan['refused']) {
    super(
      `refusing to raise the partitions of ${refused
        .map((r) => `${r.topic} (${r.from} -> ${r.to})`)
        .join(
          ', ',
        )}: these topics are keyed by order number, and more partitions send an order's later events to another partition than its earlier ones, so per-order ordering breaks while both are unread. Drain the consumers, then run again with --allow-partition-increase. Nothing was changed.`,
    );
  }
}

/** What the cluster has for these topics: partitions, replication and topic-level settings. */
export async function readTopicStates(admin: Admin, names: string[]): Promise<TopicState[]> {
  const existing = new Set(await admin.listTopics());
  const present = names.filter((n) => existing.has(n));
  if (present.length === 0) return [];
  const meta = await admin.fetchTopicMetadata({ topics: present });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
  });
  return present.map((name) => {
    const partitions = meta.topics.find((m) => m.name === name)?.partitions ?? [];
    const resource = configs.resources.find((r) => r.resourceName === name);
    const dynamicConfig: Record<string, string> = {};
    const hiddenConfig: string[] = [];
    for (const entry of resource?.configEntries ?? []) {
      if (entry.configSource !== ConfigSource.TOPIC_CONFIG) continue;
      if (entry.isSensitive || entry.configValue === null) hiddenConfig.push(entry.configName);
      else dynamicConfig[entry.configName] = entry.configValue;
    }
    return {
      name,
      partitions: partitions.length,
      replicationFactor: partitions[0]?.replicas.length ?? 0,
      dynamicConfig,
      hiddenConfig,
    };
  });
}

/**
 * Brings the topics to their declared state without touching what it does not manage: reads every
 * topic's dynamic settings and sends the merged set (kafkajs' `alterConfigs` replaces a topic's whole
 * dynamic config, so sending only the managed keys would reset the rest). Idempotent; run it from the
 * CLI or the Kubernetes setup Job before the services.
 */
export async function provisionTopics(
  admin: Admin,
  topics: TopicSettings[],
  options: ProvisionOptions = {},
): Promise<ProvisionReport> {
  const states = await readTopicStates(
    admin,
    topics.map((t) => t.name),
  );
  const plan = planTopics(topics, states, options);
  const report: ProvisionReport = {
    created: [],
    updated: [],
    unchanged: [],
    plan,
    dryRun: options.dryRun ?? false,
  };
  for (const e of plan.entries)
    (e.action === 'create' ? report.created : e.action === 'alter' ? report.updated : report.unchanged).push(
      e.topic,
    );
  if (options.dryRun) return report;
  if (plan.refused.length > 0) throw new PartitionIncreaseRefusedError(plan.refused);

  const toCreate: ITopicConfig[] = [];
  for (const e of plan.entries)
    if (e.action === 'create')
      toCreate.push({
        topic: e.topic,
        numPartitions: e.settings.partitions,
        replicationFactor: e.settings.replicationFactor,
        configEntries: Object.entries(e.config).map(([name, value]) => ({ name, value })),
      });
  if (toCreate.length > 0) {
    await admin.createTopics({ topics: toCreate, waitForLeaders: false });
    await waitForLeaders(
      admin,
      toCreate.map((t) => t.topic),
    );
  }

  const grow = plan.entries.flatMap((e) =>
    e.action !== 'create' && e.partitions ? [{ topic: e.topic, count: e.partitions.to }] : [],
  );
  if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow });

  const alter = plan.entries.flatMap((e) =>
    e.action === 'alter' && e.changes.length > 0
      ? [
          {
            type: ConfigResourceTypes.TOPIC,
            name: e.topic,
            configEntries: Object.entries(e.mergedConfig).map(([name, value]) => ({ name, value })),
          },
        ]
      : [],
  );
  if (alter.length > 0) await admin.alterConfigs({ validateOnly: false, resources: alter });
  return report;
}

/**
 * Waits until every partition of new topics has a leader. kafkajs' own wait gives up when a broker
 * that has not yet heard of a new topic answers UNKNOWN_TOPIC_OR_PARTITION, which a multi-broker
 * cluster does for a moment after creation.
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no metadata yet';
  while (Date.now() < deadline) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      const leaderless = meta.topics.flatMap((t) =>
        t.partitions.filter((p) => p.leader < 0).map((p) => `${t.name}[${p.partitionId}]`),
      );
      if (meta.topics.length === topics.length && leaderless.length === 0) return;
      last = `no leader yet for ${leaderless.join(', ')}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `topics ${topics.join(', ')} created, but not every partition has a leader after ${timeoutMs} ms: ${last}`,
  );
}
