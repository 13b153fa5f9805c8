import { Admin, ConfigResourceTypes, ITopicConfig } from 'kafkajs';
import { TOPIC_CATALOGUE, TopicNames, TopicRole } from '@libs/contracts';

export interface TopicSettings {
  name: string;
  partitions: number;
  replicationFactor: number;
  retentionMs: number;
  maxMessageBytes: number;
}

/** Per-topic settings from the catalogue, overridable by TOPIC_<ROLE>_PARTITIONS / _RETENTION_DAYS. */
export function topicSettingsFromEnv(
  names: TopicNames,
  env: Record<string, string | undefined> = process.env,
): TopicSettings[] {
  const num = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
    return n;
  };
  const replicationFactor = num('TOPIC_REPLICATION_FACTOR', 1);
  const maxMessageBytes = num('KAFKA_MAX_MESSAGE_BYTES', 1_048_576);
  return (Object.keys(TOPIC_CATALOGUE) as TopicRole[]).map((role) => {
    const spec = TOPIC_CATALOGUE[role];
    const upper = spec.envVar;
    return {
      name: names[role],
      partitions: num(`${upper}_PARTITIONS`, spec.partitions),
      replicationFactor,
      retentionMs: num(`${upper}_RETENTION_DAYS`, spec.retentionDays) * 86_400_000,
      maxMessageBytes,
    };
  });
}

export interface ProvisionReport {
  created: string[];
  updated: string[];
  unchanged: string[];
}

/**
 * Creates missing topics and brings existing ones to the configured retention, size limit and (never
 * fewer) partitions. Idempotent: run it from a CLI or a Kubernetes Job before the services.
 */
export async function provisionTopics(admin: Admin, topics: TopicSettings[]): Promise<ProvisionReport> {
  const report: ProvisionReport = { created: [], updated: [], unchanged: [] };
  const existing = new Set(await admin.listTopics());
  const configEntries = (t: TopicSettings) => [
    { name: 'retention.ms', value: String(t.retentionMs) },
    { name: 'max.message.bytes', value: String(t.maxMessageBytes) },
    { name: 'cleanup.policy', value: 'delete' },
  ];
  const toCreate: ITopicConfig[] = topics
    .filter((t) => !existing.has(t.name))
    .map((t) => ({
      topic: t.name,
      numPartitions: t.partitions,
      replicationFactor: t.replicationFactor,
      configEntries: configEntries(t),
    }));
  if (toCreate.length > 0) {
    await admin.createTopics({ topics: toCreate, waitForLeaders: true });
    report.created.push(...toCreate.map((t) => t.topic));
  }
  const present = topics.filter((t) => existing.has(t.name));
  if (present.length > 0) {
    const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
    const grow = present.filter((t) => {
      const current = meta.topics.find((m) => m.name === t.name)?.partitions.length ?? 0;
      return current < t.partitions;
    });
    if (grow.length > 0)
      await admin.createPartitions({
        topicPartitions: grow.map((t) => ({ topic: t.name, count: t.partitions })),
      });
    await admin.alterConfigs({
      validateOnly: false,
      resources: present.map((t) => ({
        type: ConfigResourceTypes.TOPIC,
        name: t.name,
        configEntries: configEntries(t),
      })),
    });
    for (const t of present) (grow.includes(t) ? report.updated : report.unchanged).push(t.name);
  }
  return report;
}
