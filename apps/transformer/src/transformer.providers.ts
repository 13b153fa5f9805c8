import { Provider } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { TransformerConfig } from '@libs/config';
import { TopicNames } from '@libs/contracts';
import { EventProducer } from '@libs/kafka';
import { ParkedDrainer, ParkedMessageStore, SchemeHolds } from '@libs/parking';
import {
  CONFIG,
  schemeWatcherProvider,
  DATA_SOURCE,
  INSTANCE,
  KAFKA,
  LOGGER,
  PRODUCER,
  TOPICS,
} from '@libs/runtime';
import { SchemeWatcher } from '@libs/scheme';
import {
  createTransformProcessor,
  createTransformReplayWorker,
  SchemeRegistry,
  TransformParking,
  TransformProcessor,
} from '@libs/transform';
import { RangeRequestWorker } from '@libs/work-requests';

/** The processor operators' replays run (no parking: like `npm run replay`). */
export const REPLAY_PROCESSOR = Symbol('REPLAY_PROCESSOR');
const PROCESSOR_FACTORY = Symbol('PROCESSOR_FACTORY');
type ProcessorFactory = (parking?: TransformParking) => TransformProcessor;

/**
 * The transformer's business objects, made by Nest (so a test can override any of them). Built
 * here, started and stopped by TransformerWorker in order.
 */
export const TRANSFORMER_PROVIDERS: Provider[] = [
  {
    // Raw events of a paused scheme wait in Postgres (the partition moves on) and are mapped, in
    // order, when the scheme is resumed.
    provide: SchemeHolds,
    inject: [DATA_SOURCE, LOGGER],
    useFactory: (ds: DataSource, logger: Logger) => new SchemeHolds(ds, 1000, logger),
  },
  {
    provide: ParkedMessageStore,
    inject: [DATA_SOURCE],
    useFactory: (ds: DataSource) => new ParkedMessageStore(ds, 'transformer'),
  },
  // Scheme files apply without a restart (SCHEME_RELOAD_MS); a mapping that does not compile is not taken.
  schemeWatcherProvider({ accept: () => (next) => SchemeRegistry.compileProblem(next) }),
  {
    provide: SchemeRegistry,
    inject: [SchemeWatcher, LOGGER],
    useFactory: (watcher: SchemeWatcher, logger: Logger) => new SchemeRegistry(watcher, logger),
  },
  {
    // One way to build a processor: with parking (the service) or without (replays).
    provide: PROCESSOR_FACTORY,
    inject: [SchemeRegistry, CONFIG, DATA_SOURCE, PRODUCER, TOPICS, LOGGER],
    useFactory:
      (
        registry: SchemeRegistry,
        config: TransformerConfig,
        ds: DataSource,
        producer: EventProducer,
        topics: TopicNames,
        logger: Logger,
      ) =>
      (parking?: TransformParking): TransformProcessor =>
        createTransformProcessor({ registry, config, ds, producer, topics, logger, parking }).processor,
  },
  {
    provide: TransformProcessor,
    inject: [PROCESSOR_FACTORY, SchemeHolds, ParkedMessageStore],
    useFactory: (make: ProcessorFactory, holds: SchemeHolds, store: ParkedMessageStore) =>
      make({ holds, store, behindRetryMs: 2000 }),
  },
  {
    provide: REPLAY_PROCESSOR,
    inject: [PROCESSOR_FACTORY],
    useFactory: (make: ProcessorFactory) => make(),
  },
  {
    // Parked raw events of schemes that run again, mapped in order.
    provide: ParkedDrainer,
    inject: [ParkedMessageStore, SchemeHolds, SchemeRegistry, TransformProcessor, INSTANCE, LOGGER],
    useFactory: (
      store: ParkedMessageStore,
      holds: SchemeHolds,
      registry: SchemeRegistry,
      processor: TransformProcessor,
      instance: string,
      logger: Logger,
    ) =>
      new ParkedDrainer(store, {
        owner: instance,
        pollMs: 2000,
        batch: 200,
        leaseMs: 30_000,
        runningSchemes: () => holds.running(registry.schemes().map((s) => s.id)),
        handle: (rows) => processor.handleParked(rows),
        logger,
      }),
  },
  {
    // Operators' replays of the transform stage.
    provide: RangeRequestWorker,
    inject: [DATA_SOURCE, KAFKA, REPLAY_PROCESSOR, TOPICS, INSTANCE, CONFIG, LOGGER],
    useFactory: (
      ds: DataSource,
      kafka: Kafka,
      processor: TransformProcessor,
      topics: TopicNames,
      instance: string,
      config: TransformerConfig,
      logger: Logger,
    ) =>
      createTransformReplayWorker({
        ds,
        kafka,
        processor,
        rawTopic: topics.rawStockout,
        owner: instance,
        pollMs: config.WORK_REQUEST_POLL_MS,
        logger,
      }),
  },
];
