import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { Logger } from 'pino';
import { TransformerConfig } from '@libs/config';
import { TopicNames } from '@libs/contracts';
import { ConsumedMessage, EventProducer } from '@libs/kafka';
import {
  checkSchemeKeys,
  clearSchemeFileStatus,
  CONFIG,
  createSchemeWatcher,
  DATA_SOURCE,
  KAFKA,
  LOGGER,
  PRODUCER,
  ServiceConsumers,
  TOPICS,
} from '@libs/runtime';
import { SchemeWatcher } from '@libs/scheme';
import { DataSource } from 'typeorm';
import {
  createTransformProcessor,
  createTransformReplayWorker,
  SchemeRegistry,
  TransformProcessor,
} from '@libs/transform';
import { RangeRequestWorker } from '@libs/work-requests';
import { ParkedDrainer, ParkedMessageStore, SchemeHolds } from '@libs/parking';
import { hostname } from 'node:os';

@Injectable()
export class TransformerWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private processor?: TransformProcessor;
  private watcher?: SchemeWatcher;
  private readonly instance = `${hostname()}-${process.pid}`;
  private holds?: SchemeHolds;
  private drainer?: ParkedDrainer;
  private replays?: RangeRequestWorker;

  constructor(
    @Inject(CONFIG) private readonly config: TransformerConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(PRODUCER) private readonly producer: EventProducer,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly consumers: ServiceConsumers,
  ) {}

  /** One batch of raw events (from `@EventPattern('rawStockout')`): mapped, documents published. */
  async handle(messages: ConsumedMessage[]): Promise<void> {
    if (!this.processor) throw new Error('transformer not started');
    const counts = await this.processor.handle(messages);
    this.logger.debug({ ...counts }, 'batch transformed');
  }

  async onApplicationBootstrap(): Promise<void> {
    // Raw events of a paused scheme wait in Postgres (the partition moves on) and are mapped, in
    // order, when the scheme is resumed.
    this.holds = new SchemeHolds(this.ds, 1000, this.logger);
    await this.holds.start();
    const store = new ParkedMessageStore(this.ds, 'transformer');
    // Scheme files apply without a restart (SCHEME_RELOAD_MS); a mapping that does not compile is not taken.
    this.watcher = createSchemeWatcher({
      config: this.config,
      ds: this.ds,
      logger: this.logger,
      service: 'transformer',
      instance: this.instance,
      accept: (next) => SchemeRegistry.compileProblem(next),
    });
    await checkSchemeKeys(this.ds, this.watcher);
    const registry = new SchemeRegistry(this.watcher, this.logger);
    registry.load();
    const { processor } = createTransformProcessor({
      registry,
      config: this.config,
      ds: this.ds,
      producer: this.producer,
      topics: this.topics,
      logger: this.logger,
      parking: { holds: this.holds, store, behindRetryMs: 2000 },
    });
    const holds = this.holds;
    this.drainer = new ParkedDrainer(store, {
      owner: this.instance,
      pollMs: 2000,
      batch: 200,
      leaseMs: 30_000,
      runningSchemes: () => holds.running(registry.schemes().map((s) => s.id)),
      handle: (rows) => processor.handleParked(rows),
      logger: this.logger,
    });
    this.drainer.start();
    this.watcher.start();
    // Batches reach `handle` through TransformerController once every bootstrap hook has run.
    this.processor = processor;
    this.consumers.batch('rawStockout', { concurrency: 2, chunkSize: 200 });
    // Operators' replays of the transform stage (without parking, like `npm run replay`).
    this.replays = createTransformReplayWorker({
      ds: this.ds,
      kafka: this.kafka,
      processor: createTransformProcessor({
        config: this.config,
        ds: this.ds,
        producer: this.producer,
        topics: this.topics,
        logger: this.logger,
        registry,
      }).processor,
      rawTopic: this.topics.rawStockout,
      owner: `${hostname()}-${process.pid}`,
      pollMs: this.config.WORK_REQUEST_POLL_MS,
      logger: this.logger,
    });
    this.replays.start();
    this.logger.info({ schemes: registry.schemes().map((s) => s.id) }, 'transformer consuming');
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.watcher?.stop();
    await this.replays?.stop();
    await this.consumers.stop('rawStockout');
    await this.drainer?.stop();
    this.holds?.stop();
    await clearSchemeFileStatus(this.ds, 'transformer', this.instance);
  }
}
