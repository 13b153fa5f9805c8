/**
 * The topic catalogue: every topic the services use, its default name, and how it is provisioned.
 * Names are overridable by env (see `topicNamesFromEnv`) so several deployments can share a cluster.
 */
export type TopicRole = 'rawStockout' | 'kingdeeDocument' | 'audit' | 'deadLetter';

export interface TopicSpec {
  role: TopicRole;
  defaultName: string;
  envVar: string;
  description: string;
  /** Default partitions / retention; overridable by env TOPIC_<ROLE>_PARTITIONS / _RETENTION_DAYS. */
  partitions: number;
  retentionDays: number;
}

export const TOPIC_CATALOGUE: Record<TopicRole, TopicSpec> = {
  rawStockout: {
    role: 'rawStockout',
    defaultName: 'wdt.stockout-return.raw.v1',
    envVar: 'TOPIC_RAW_STOCKOUT',
    description: 'WDT purchase-return stockout records exactly as received, one event per order version.',
    partitions: 6,
    // Long enough to replay a month of history into the downstream stages.
    retentionDays: 30,
  },
  kingdeeDocument: {
    role: 'kingdeeDocument',
    defaultName: 'kingdee.pur-mrb.document.v1',
    envVar: 'TOPIC_KINGDEE_DOCUMENT',
    description:
      'Kingdee-ready PUR_MRB models produced by the transformer, keyed by the source order number.',
    partitions: 6,
    retentionDays: 14,
  },
  audit: {
    role: 'audit',
    defaultName: 'sync.audit.v1',
    envVar: 'TOPIC_AUDIT',
    description: 'One event per outcome at any stage (loaded, skipped, failed, dead-lettered, ...).',
    partitions: 6,
    retentionDays: 30,
  },
  deadLetter: {
    role: 'deadLetter',
    defaultName: 'sync.dead-letter.v1',
    envVar: 'TOPIC_DEAD_LETTER',
    description: 'Records a stage could not process, with the error and where they came from.',
    partitions: 3,
    retentionDays: 30,
  },
};

export type TopicNames = Record<TopicRole, string>;

export function topicNamesFromEnv(env: Record<string, string | undefined> = process.env): TopicNames {
  const names = {} as TopicNames;
  for (const spec of Object.values(TOPIC_CATALOGUE)) names[spec.role] = env[spec.envVar] || spec.defaultName;
  return names;
}

/** Kafka message headers every producer sets. */
export const HEADER = {
  schemaVersion: 'schema-version',
  eventType: 'event-type',
  correlationId: 'correlation-id',
  contentType: 'content-type',
} as const;

export const CONTENT_TYPE_JSON = 'application/json';
