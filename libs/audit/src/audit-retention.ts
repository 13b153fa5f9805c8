import { DataSource } from 'typeorm';
import { queryRows } from '@libs/database';

/** Tables purged by age, with the column that dates a row. */
const PURGED: Array<{ table: string; column: string }> = [
  { table: 'audit_attempts', column: 'at' },
  { table: 'audit_history', column: 'occurred_at' },
  { table: 'source_versions', column: 'first_seen_at' },
];

/**
 * Keeps request/reply bodies, history and source versions for `AUDIT_RETENTION_DAYS`: deletes older
 * rows in batches (each a short statement on an index, so the audit writer never holds long locks).
 * The latest row per order (audit_orders) is kept: it is what "where is order X?" answers.
 */
export class AuditRetention {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly ds: DataSource,
    private readonly retentionDays: number,
    private readonly batch = 5000,
  ) {}

  /** Deletes everything older than the retention; returns the number of rows deleted. */
  async purge(): Promise<number> {
    let total = 0;
    for (const { table, column } of PURGED) {
      for (;;) {
        // Raw: a bounded DELETE by ctid over a table named by the caller (batches that never lock the table long).
        const rows = await queryRows<unknown>(
          this.ds,
          `DELETE FROM ${table} WHERE ctid IN (
             SELECT ctid FROM ${table} WHERE ${column} < now() - make_interval(days => $1) LIMIT $2)
           RETURNING 1`,
          [this.retentionDays, this.batch],
        );
        total += rows.length;
        if (rows.length < this.batch) break;
      }
    }
    return total;
  }

  start(everyMs: number, onError: (err: Error) => void): void {
    const run = () => {
      this.running ??= this.purge()
        .catch((err: Error) => {
          onError(err);
          return 0;
        })
        .finally(() => (this.running = undefined));
    };
    run();
    this.timer = setInterval(run, everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
