import { Kafka } from 'kafkajs';
import { AppLogger } from '@libs/common';
import { RangeRequestStore, RangeRequestWorker, requestedRange } from '@libs/work-requests';
import { DataSource } from 'typeorm';
import { replayTransform } from './transform-replay.runner';
import { TransformProcessor } from './transform.processor';

/**
 * The transformer's part of operators' requests: replays of the transform stage over a time range
 * (one replica takes each). `processor` maps without parking, as `npm run replay` does: a paused
 * scheme's documents are held by the loader.
 */
export function createTransformReplayWorker(deps: {
  ds: DataSource;
  kafka: Kafka;
  processor: TransformProcessor;
  rawTopic: string;
  owner: string;
  pollMs: number;
  logger?: AppLogger;
}): RangeRequestWorker {
  return new RangeRequestWorker(
    new RangeRequestStore(deps.ds),
    'transform',
    async (request, ctx) => {
      const result = await replayTransform(
        { kafka: deps.kafka, processor: deps.processor, rawTopic: deps.rawTopic },
        requestedRange(request),
        {
          signal: ctx.signal,
          onProgress: (p) =>
            ctx.progress({
              done: p.done,
              total: p.total,
              message: `${p.done}/${p.total} raw events read: ${p.documents} documents, ${p.skipped} skipped, ${p.deadLettered} dead-lettered`,
            }),
        },
      );
      ctx.progress({ done: result.done, total: result.total });
      return `${result.done} raw events replayed: ${result.documents} documents re-emitted, ${result.skipped} skipped, ${result.deadLettered} dead-lettered`;
    },
    { pollMs: deps.pollMs, owner: deps.owner, logger: deps.logger },
  );
}
