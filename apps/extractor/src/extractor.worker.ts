import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ConnectionStatusRecorder, ConnectionTestWorker } from '@libs/connection-health';
import { ConnectionRegistry, schemeIdentityOf } from '@libs/connections';
import { ServiceStatusStore } from '@libs/database';
import { ExtractorRequests, SchemeSchedules, WdtClients } from '@libs/extraction';
import {
  checkSchemeKeys,
  clearSchemeFileStatus,
  CONNECTIONS,
  DATA_SOURCE,
  INSTANCE,
  LOGGER,
} from '@libs/runtime';
import { SchemeWatcher } from '@libs/scheme';

/**
 * Starts the extractor's parts in order (scheme keys checked, one scheduler per enabled scheme, the
 * scheme watcher, operators' backfills and previews, connection tests) and stops them in reverse;
 * its business objects come from EXTRACTOR_PROVIDERS.
 */
@Injectable()
export class ExtractorWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(CONNECTIONS) private readonly connections: ConnectionRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(INSTANCE) private readonly instance: string,
    private readonly statusRows: ServiceStatusStore,
    private readonly watcher: SchemeWatcher,
    private readonly schedules: SchemeSchedules,
    private readonly clients: WdtClients,
    private readonly requests: ExtractorRequests,
    private readonly connectionTests: ConnectionTestWorker,
    private readonly connectionStatus: ConnectionStatusRecorder,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await checkSchemeKeys(this.ds, this.watcher, schemeIdentityOf(this.connections));
    this.schedules.start();
    this.watcher.start();
    this.requests.start();
    this.connectionTests.start();
    this.logger.info(
      { schemes: this.schedules.size, connections: this.clients.names(), instance: this.instance },
      'extractor scheduling',
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.connectionTests.stop();
    await this.requests.stop();
    await this.watcher.stop();
    await this.schedules.stop();
    await this.clients.stop();
    await clearSchemeFileStatus(this.ds, 'extractor', this.instance);
    await this.connectionStatus.flush();
    await this.statusRows.remove().catch(() => undefined);
  }
}
