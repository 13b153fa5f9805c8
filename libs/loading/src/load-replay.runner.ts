import { Kafka } from 'kafkajs';
import { RangeBound, RangeProgress, replayTopicRange } from '@libs/kafka';
import { LoaderEngine } from './load-processor.factory';

/**
 * Feeds stored Kingdee documents of the document topic over a time (or offset) range straight to a
 * loader engine's processor (claims, fencing, settling: the live protocol, so no bill is written
 * twice). Shared by `npm run replay -- --stage load` and the loader's replay requests.
 */
export function replayLoad(
  deps: { kafka: Kafka; engine: LoaderEngine; documentTopic: string },
  range: { from: RangeBound; to?: RangeBound; schemeId?: string | null },
  options: { signal?: AbortSignal; onProgress?: (p: RangeProgress) => void } = {},
): Promise<RangeProgress> {
  const processor = deps.engine.processor;
  return replayTopicRange(
    deps.kafka,
    deps.documentTopic,
    range,
    (messages, ctx) => processor.handle(messages, ctx),
    options,
  );
}
