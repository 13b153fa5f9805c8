import { AppLogger, silentLogger } from '@libs/common';
import { ParkedMessage, ParkedMessageStore } from './parked-message.store';

export interface ParkedDrainerOptions {
  owner: string;
  pollMs: number;
  batch: number;
  leaseMs: number;
  /** Schemes whose parked messages may be processed now (not held). */
  runningSchemes: () => string[];
  /** Processes drained messages; returns the ones that reached an end (the rest were parked again). */
  handle: (rows: ParkedMessage[]) => Promise<ParkedMessage[]>;
  logger?: AppLogger;
}

/**
 * Re-processes parked messages of schemes that run again, oldest first, on a timer: what reached an
 * end is removed (unless a newer version of its key was parked meanwhile), the rest stays parked.
 */
export class ParkedDrainer {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private readonly logger: AppLogger;

  constructor(
    private readonly store: ParkedMessageStore,
    private readonly options: ParkedDrainerOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.drainOnce()
        .then(() => undefined)
        .catch((err: Error) =>
          this.logger.warn({ err: err.message }, 'draining parked messages failed; trying again'),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.pollMs);
        });
    };
    this.timer = setTimeout(tick, this.options.pollMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One round; returns how many messages it took. */
  async drainOnce(): Promise<number> {
    const rows = await this.store.take(
      this.options.runningSchemes(),
      this.options.owner,
      this.options.leaseMs,
      this.options.batch,
    );
    if (rows.length === 0) return 0;
    const done = await this.options.handle(rows);
    await this.store.remove(done);
    if (done.length > 0)
      this.logger.info({ drained: done.length, taken: rows.length }, 'parked messages processed');
    return rows.length;
  }
}
