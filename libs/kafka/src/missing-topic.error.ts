import { Kafka } from 'kafkajs';

/** The fix, named in every message about a missing topic. */
export const PROVISION_COMMAND = 'npm run topics:provision';

/**
 * Topics this process needs are not on the cluster. The message names them and the fix; kafkajs
 * alone says only "This server does not host this topic-partition", or retries for minutes.
 */
export class MissingTopicError extends Error {
  override readonly name = 'MissingTopicError';
  constructor(
    readonly topics: string[],
    brokers?: string[],
  ) {
    const one = topics.length === 1;
    super(
      `Kafka topic${one ? '' : 's'} ${topics.map((t) => `"${t}"`).join(', ')} ${one ? 'does' : 'do'} not exist` +
        `${brokers?.length ? ` on ${brokers.join(',')}` : ''}: create ${one ? 'it' : 'them'} with \`${PROVISION_COMMAND}\`` +
        ' (with the same KAFKA_BROKERS and TOPIC_* settings as this process)',
    );
  }
}

/** Whether kafkajs (or anything it wrapped) reported an unknown topic or partition. */
export function isUnknownTopicError(err: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const e = current as Error & { type?: string; originalError?: unknown };
    if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION' || /does not host this topic-partition/i.test(e.message))
      return true;
    current = e.cause ?? e.originalError;
  }
  return false;
}

/**
 * A kafkajs error about `topics` as the person running the process needs it: an unknown topic
 * becomes a MissingTopicError naming them and the fix; anything else is returned unchanged.
 */
export function explainKafkaError(err: unknown, topics: string[], brokers?: string[]): unknown {
  if (err instanceof MissingTopicError || !isUnknownTopicError(err)) return err;
  const named = topics.filter((t) => (err as Error).message.includes(t));
  return new MissingTopicError(named.length > 0 ? named : topics, brokers);
}

/** Fails at boot, naming every topic of `topics` the cluster lacks and the fix. */
export async function assertTopicsExist(kafka: Kafka, topics: string[], brokers?: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((t) => !existing.has(t));
    if (missing.length > 0) throw new MissingTopicError(missing, brokers);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
