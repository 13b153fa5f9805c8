import { Kafka } from 'kafkajs';
import { RangeBound, RangeProgress, replayTopicRange } from '@libs/kafka';
import { TransformCounts, TransformProcessor } from './transform.processor';

export interface TransformReplayProgress extends RangeProgress {
  documents: number;
  skipped: number;
  deadLettered: number;
}

/**
 * Re-maps raw events of the raw topic over a time (or offset) range with a fresh consumer group and
 * re-emits Kingdee documents (the loader's idempotency keeps one bill per order). Shared by
 * `npm run replay -- --stage transform` and the transformer's replay requests.
 */
export async function replayTransform(
  deps: { kafka: Kafka; processor: TransformProcessor; rawTopic: string },
  range: { from: RangeBound; to?: RangeBound; schemeId?: string | null },
  options: { signal?: AbortSignal; onProgress?: (p: TransformReplayProgress) => void } = {},
): Promise<TransformReplayProgress> {
  const counts = { documents: 0, skipped: 0, deadLettered: 0 };
  const read = await replayTopicRange(
    deps.kafka,
    deps.rawTopic,
    range,
    async (messages) => {
      const c: TransformCounts = await deps.processor.handle(messages);
      counts.documents += c.documents;
      counts.skipped += c.skipped;
      counts.deadLettered += c.deadLettered;
    },
    { signal: options.signal, onProgress: (p) => options.onProgress?.({ ...p, ...counts }) },
  );
  return { ...read, ...counts };
}
