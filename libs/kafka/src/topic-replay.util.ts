import { Kafka } from 'kafkajs';
import { BatchHandler, ConsumedMessage } from './batch-consumer';
import { RangeBound, RangeProgress, TopicRangeReader } from './topic-range.reader';

/** The scheme an event on a pipeline topic belongs to (its JSON `schemeId`), if it can be read. */
export function schemeOfMessage(message: ConsumedMessage): string | undefined {
  if (!message.value) return undefined;
  try {
    const id = (JSON.parse(message.value.toString('utf8')) as { schemeId?: unknown }).schemeId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Feeds a slice of a topic's history to a stage's handler (see TopicRangeReader), optionally only
 * the events of one scheme, stopping at the next batch once `signal` aborts. Progress counts every
 * message of the slice (also those of other schemes, which are passed over).
 */
export async function replayTopicRange(
  kafka: Kafka,
  topic: string,
  range: { from: RangeBound; to?: RangeBound; schemeId?: string | null },
  handler: BatchHandler,
  options: { signal?: AbortSignal; onProgress?: (p: RangeProgress) => void } = {},
): Promise<RangeProgress> {
  const { signal } = options;
  return new TopicRangeReader(kafka).read(
    topic,
    range.from,
    range.to,
    async (messages, ctx) => {
      signal?.throwIfAborted();
      const mine = range.schemeId ? messages.filter((m) => schemeOfMessage(m) === range.schemeId) : messages;
      if (mine.length > 0) await handler(mine, ctx);
    },
    options.onProgress,
  );
}
