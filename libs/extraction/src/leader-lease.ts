import { DataSource, QueryRunner } from 'typeorm';

/**
 * Leadership per scheme through a Postgres session-level advisory lock held on a dedicated
 * connection: only one extractor replica polls a scheme at a time; if the holder dies, its
 * connection closes, the lock is released and another replica takes over from the stored cursor.
 *
 * Advisory locks are database-wide, so the lock name carries the data source's schema
 * (`DATABASE_SCHEMA`): two deployments in two schemas of one database each have their own leader.
 */
export class LeaderLease {
  private runner?: QueryRunner;
  private readonly key: string;

  constructor(
    private readonly ds: DataSource,
    name: string,
  ) {
    const schema = (ds.options as { schema?: string }).schema ?? 'public';
    this.key = `wdt-kingdee-sync:leader:${schema}:${name}`;
  }

  get held(): boolean {
    return this.runner !== undefined;
  }

  async tryAcquire(): Promise<boolean> {
    if (this.runner) return true;
    const runner = this.ds.createQueryRunner();
    await runner.connect();
    // Raw: a session-level advisory lock is the lease itself.
    const [row] = await runner.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS ok`, [this.key]);
    if (row.ok) {
      this.runner = runner;
      return true;
    }
    await runner.release();
    return false;
  }

  /** Verifies the lock's connection is still alive (a broken connection means the lock is gone). */
  async stillHeld(): Promise<boolean> {
    if (!this.runner) return false;
    try {
      // Raw: a round trip on the lease's own connection proves the session (and its lock) is alive.
      await this.runner.query('SELECT 1');
      return true;
    } catch {
      await this.release();
      return false;
    }
  }

  async release(): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    if (!runner) return;
    // Raw: releases the session-level advisory lock.
    await runner.query(`SELECT pg_advisory_unlock(hashtext($1))`, [this.key]).catch(() => undefined);
    await runner.release().catch(() => undefined);
  }
}
