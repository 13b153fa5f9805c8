import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { formatShanghaiDate } from '@libs/common';

import { StackRunner } from '@tools/devstack';
import { eventually } from '../support/test-env';

const root = resolve(__dirname, '../..');
const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';

interface RunRow {
  id: string;
  trigger: string;
  schedule_slot: string | null;
  state: string;
  owner: string | null;
  counts: Record<string, number> | null;
  error: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

/**
 * apps/reconciler as processes (two replicas on one Postgres schema, both sandboxes, real Kafka):
 * the nightly schedule queues exactly one run per scheme and slot however many replicas boot, queued
 * runs are claimed and carried out, and a run cancelled before it started never runs.
 */
describe('reconciler worker: schedule, claim, cancel', () => {
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
  let stack: StackRunner;
  let ds: DataSource;

  const runs = (): Promise<RunRow[]> =>
    ds.query(`SELECT * FROM reconcile_runs WHERE scheme_id = $1 ORDER BY requested_at`, [SCHEME]);
  const finished = (id: string) =>
    eventually(
      `run ${id} to finish`,
      async () => {
        const [row] = (await ds.query(`SELECT * FROM reconcile_runs WHERE id = $1`, [id])) as RunRow[];
        return row && ['done', 'failed', 'cancelled'].includes(row.state) ? row : undefined;
      },
      60_000,
    );
  const logged = (name: string, msg: string) =>
    readFileSync(stack.processes.get(name)!.spec.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes(`"msg":"${msg}"`));
  const queue = async (over: { cancel?: boolean } = {}) => {
    const id = randomUUID();
    // As the operator API requests a run: a queued row (an empty day long ago: nothing on either side).
    await ds.query(
      `INSERT INTO reconcile_runs (id, scheme_id, period_from, period_to, trigger, requested_by, cancel_requested)
       VALUES ($1, $2, '2020-01-01 00:00:00+08', '2020-01-01 23:59:59+08', 'api', 'test', $3)`,
      [id, SCHEME, over.cancel ?? false],
    );
    return id;
  };

  beforeAll(async () => {
    stack = new StackRunner({ root, brokers, databaseUrl, services: ['reconciler'] });
    await stack.prepare();
    ds = await stack.openDataSource();
    await stack.startSandboxes();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await stack?.cleanup();
  });

  it('queues exactly one nightly run per slot with two replicas booting on one database', async () => {
    await stack.startServices(['reconciler']);
    await stack.startReplica('reconciler', 'reconciler-2');
    // Both replicas have looked at the slot: one queued it, the other found it taken.
    await eventually(
      'both replicas to have handled the slot',
      async () =>
        ['reconciler', 'reconciler-2'].every(
          (n) =>
            logged(n, 'nightly reconciliation queued').length +
              logged(n, 'nightly reconciliation already queued (by another replica or an earlier start)')
                .length >
            0,
        ),
      30_000,
    );
    const scheduled = (await runs()).filter((r) => r.trigger === 'schedule');
    expect(scheduled).toHaveLength(1);
    // The default cron (04:00 Shanghai) fired within the last 24 h: today's slot, or yesterday's before 04:00.
    const now = Date.now();
    expect([formatShanghaiDate(now), formatShanghaiDate(now - 86_400_000)]).toContain(
      scheduled[0].schedule_slot,
    );
    const total =
      logged('reconciler', 'nightly reconciliation queued').length +
      logged('reconciler-2', 'nightly reconciliation queued').length;
    expect(total).toBe(1);
  }, 180_000);

  it('claims the queued nightly run and a requested one, and carries them out', async () => {
    const [nightly] = (await runs()).filter((r) => r.trigger === 'schedule');
    const requested = await queue();
    for (const id of [nightly.id, requested]) {
      const row = await finished(id);
      expect(row.owner).toMatch(/-\d+$/);
      expect(row.started_at).not.toBeNull();
      // Needs the engine (libs/reconcile/src/run): an empty period reconciles to no findings.
      expect([row.state, row.error]).toEqual(['done', null]);
      expect(row.counts).toEqual({
        matched: 0,
        missing_in_erp: 0,
        duplicated_in_erp: 0,
        extra_in_erp: 0,
        differs: 0,
        trail_disagrees: 0,
      });
    }
  }, 120_000);

  it('never starts a run whose cancel was requested before it was claimed', async () => {
    const id = await queue({ cancel: true });
    const row = await finished(id);
    expect(row.state).toBe('cancelled');
    expect(row.finished_at).not.toBeNull();
  }, 60_000);

  it('reports each replica in service_status and withdraws it on shutdown', async () => {
    const rows: Array<{ instance: string; value: { schedule: boolean; schemes: string[] } }> = await ds.query(
      `SELECT instance, value FROM service_status WHERE service = 'reconciler' AND key = 'reconciler'`,
    );
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r.value).toMatchObject({ schedule: true, schemes: [SCHEME] });
    await stack.processes.get('reconciler-2')!.stop();
    const left = await ds.query(
      `SELECT instance FROM service_status WHERE service = 'reconciler' AND key = 'reconciler'`,
    );
    expect(left).toHaveLength(1);
  }, 60_000);
});
