import { Logger } from 'pino';
import { ReconcilerConfig } from '@libs/config';
import { ServiceStatusStore } from '@libs/database';
import { Scheme } from '@libs/scheme';

/** service_status row `reconciler` of this instance, read by the operator. */
export class ReconcilerStatus {
  constructor(
    private readonly rows: ServiceStatusStore,
    private readonly config: ReconcilerConfig,
    private readonly schemes: Map<string, Scheme>,
    private readonly logger: Logger,
  ) {}

  async report(extra: Record<string, unknown>): Promise<void> {
    const value = {
      schedule: this.config.RECONCILE_SCHEDULE_ENABLED,
      schemes: [...this.schemes.keys()],
      kingdeeSessions: this.config.RECONCILE_KINGDEE_SESSIONS,
      since: new Date().toISOString(),
      ...extra,
    };
    await this.rows
      .put('reconciler', value)
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'could not record reconciler status'));
  }

  async remove(): Promise<void> {
    await this.rows.remove().catch(() => undefined);
  }
}
