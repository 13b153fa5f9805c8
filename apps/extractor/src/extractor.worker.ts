import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { systemClock } from '@libs/common';
import { ExtractorConfig } from '@libs/config';
import { TopicNames } from '@libs/contracts';
import {
  ExtractionScheduler,
  ExtractionService,
  KafkaRawEventSink,
  LeaderLease,
  PostgresExtractionStore,
} from '@libs/extraction';
import { DeadLetterPublisher, EventProducer } from '@libs/kafka';
import { CONFIG, DATA_SOURCE, DEAD_LETTERS, LOGGER, PRODUCER, TOPICS } from '@libs/runtime';
import { loadSchemesFromDir } from '@libs/scheme';
import { createWdtClient } from '@libs/wdt-client';

/** Starts one scheduler per enabled scheme found in SCHEMES_DIR. */
@Injectable()
export class ExtractorWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private schedulers: ExtractionScheduler[] = [];

  constructor(
    @Inject(CONFIG) private readonly config: ExtractorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(PRODUCER) private readonly producer: EventProducer,
    @Inject(DEAD_LETTERS) private readonly deadLetters: DeadLetterPublisher,
    @Inject(TOPICS) private readonly topics: TopicNames,
  ) {}

  onApplicationBootstrap(): void {
    const schemes = loadSchemesFromDir(this.config.SCHEMES_DIR);
    const client = createWdtClient(this.config, this.logger);
    const store = new PostgresExtractionStore(this.ds);
    const sink = new KafkaRawEventSink(this.producer, this.deadLetters, this.topics);
    for (const scheme of schemes) {
      if (!scheme.enabled) {
        this.logger.info({ scheme: scheme.id }, 'scheme disabled (enabled: false); not polling');
        continue;
      }
      const service = new ExtractionService(
        scheme,
        client,
        store,
        sink,
        systemClock,
        { sid: this.config.WDT_SID, method: scheme.source.method },
        this.logger,
        undefined,
        this.config.EXTRACTOR_RECORD_REREADS,
      );
      const scheduler = new ExtractionScheduler(
        scheme,
        service,
        new LeaderLease(this.ds, `extractor:${scheme.id}`),
        systemClock,
        this.logger,
      );
      scheduler.start();
      this.schedulers.push(scheduler);
    }
    this.logger.info(
      { schemes: this.schedulers.length, gateway: this.config.WDT_GATEWAY },
      'extractor scheduling',
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.schedulers.map((s) => s.stop()));
  }
}
