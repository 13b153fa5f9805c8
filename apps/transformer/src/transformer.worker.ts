import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ConsumedMessage } from '@libs/kafka';
import { ParkedDrainer, SchemeHolds } from '@libs/parking';
import {
  checkSchemeKeys,
  clearSchemeFileStatus,
  DATA_SOURCE,
  INSTANCE,
  LOGGER,
  ServiceConsumers,
} from '@libs/runtime';
import { SchemeWatcher } from '@libs/scheme';
import { SchemeRegistry, TransformProcessor } from '@libs/transform';
import { RangeRequestWorker } from '@libs/work-requests';

/**
 * Starts the transformer's parts in order (holds, scheme keys checked, schemes loaded, parked
 * drainer, watcher, the raw-event consumer, replays) and stops them in reverse; its business objects
 * come from TRANSFORMER_PROVIDERS.
 */
@Injectable()
export class TransformerWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(INSTANCE) private readonly instance: string,
    private readonly consumers: ServiceConsumers,
    private readonly holds: SchemeHolds,
    private readonly watcher: SchemeWatcher,
    private readonly registry: SchemeRegistry,
    private readonly processor: TransformProcessor,
    private readonly drainer: ParkedDrainer,
    private readonly replays: RangeRequestWorker,
  ) {}

  /** One batch of raw events (from `@EventPattern('rawStockout')`): mapped, documents published. */
  async handle(messages: ConsumedMessage[]): Promise<void> {
    const counts = await this.processor.handle(messages);
    this.logger.debug({ ...counts }, 'batch transformed');
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.holds.start();
    await checkSchemeKeys(this.ds, this.watcher);
    this.registry.load();
    this.drainer.start();
    this.watcher.start();
    // Batches reach `handle` through TransformerController once every bootstrap hook has run.
    this.consumers.batch('rawStockout', { concurrency: 2, chunkSize: 200 });
    this.replays.start();
    this.logger.info({ schemes: this.registry.schemes().map((s) => s.id) }, 'transformer consuming');
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.watcher.stop();
    await this.replays.stop();
    await this.consumers.stop('rawStockout');
    await this.drainer.stop();
    this.holds.stop();
    await clearSchemeFileStatus(this.ds, 'transformer', this.instance);
  }
}
