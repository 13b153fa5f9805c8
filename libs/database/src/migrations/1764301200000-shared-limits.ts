import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Limits shared by every process on one database (`@libs/shared-limits`).
 *
 * WDT, per budget key (an app key): a log of calls by their start (`wdt_budget_calls`, pruned beyond the
 * window), who is waiting for which scheme and lane (`wdt_budget_demand`, refreshed while waiting, stale
 * after a few seconds) and which processes use the key (`wdt_budget_processes`, a heartbeat; the
 * fallback divides L by the processes seen in the last 2 minutes).
 *
 * Kingdee, per account set: the session cap as numbered slots leased with an expiry (`kingdee_slots`)
 * and the processes holding or waiting (`kingdee_slot_holders`, for the fair share). All times are the
 * database's clock, the one clock every process shares.
 */
export class SharedLimits1764301200000 implements MigrationInterface {
  name = 'SharedLimits1764301200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE wdt_budget_calls (
        id bigserial PRIMARY KEY,
        budget_key text NOT NULL,
        scheme text NOT NULL,
        priority text NOT NULL,
        instance text NOT NULL,
        started_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX wdt_budget_calls_key_started ON wdt_budget_calls (budget_key, started_at)`);
    await q.query(`
      CREATE TABLE wdt_budget_demand (
        budget_key text NOT NULL,
        instance text NOT NULL,
        scheme text NOT NULL,
        priority text NOT NULL,
        waiting integer NOT NULL,
        seen_at timestamptz NOT NULL,
        PRIMARY KEY (budget_key, instance, scheme, priority)
      )`);
    await q.query(`
      CREATE TABLE wdt_budget_processes (
        budget_key text NOT NULL,
        instance text NOT NULL,
        seen_at timestamptz NOT NULL,
        PRIMARY KEY (budget_key, instance)
      )`);
    await q.query(`
      CREATE TABLE kingdee_slots (
        account text NOT NULL,
        slot integer NOT NULL,
        instance text,
        expires_at timestamptz,
        PRIMARY KEY (account, slot)
      )`);
    await q.query(`
      CREATE TABLE kingdee_slot_holders (
        account text NOT NULL,
        instance text NOT NULL,
        want integer NOT NULL,
        held integer NOT NULL,
        seen_at timestamptz NOT NULL,
        PRIMARY KEY (account, instance)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS kingdee_slot_holders`);
    await q.query(`DROP TABLE IF EXISTS kingdee_slots`);
    await q.query(`DROP TABLE IF EXISTS wdt_budget_processes`);
    await q.query(`DROP TABLE IF EXISTS wdt_budget_demand`);
    await q.query(`DROP TABLE IF EXISTS wdt_budget_calls`);
  }
}
