import { hostname } from 'node:os';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppLogger } from '@libs/common';
import { OperatorConfig } from '@libs/config';
import { clearSchemeFileStatus, CONFIG, createSchemeWatcher, DATA_SOURCE, LOGGER } from '@libs/runtime';
import { SchemeWatcher } from '@libs/scheme';

/**
 * The operator's view of SCHEMES_DIR: the shared watcher, lenient at boot (an invalid file is shown,
 * not a reason to refuse to start), checked again before each read so a save shows at once.
 */
@Injectable()
export class SchemeFilesService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly watcher: SchemeWatcher;
  readonly instance = `${hostname()}-${process.pid}`;

  constructor(
    @Inject(CONFIG) readonly config: OperatorConfig,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.watcher = createSchemeWatcher({
      config,
      ds,
      logger,
      service: 'operator',
      instance: this.instance,
      lenient: true,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.watcher.check();
    this.watcher.start();
  }

  /** The files as they are now (a check; cheap when nothing changed). */
  async refresh(): Promise<SchemeWatcher> {
    await this.watcher.check();
    return this.watcher;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.watcher.stop();
    await clearSchemeFileStatus(this.ds, 'operator', this.instance);
  }
}
