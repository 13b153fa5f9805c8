import { randomUUID } from 'node:crypto';
import { AuditRetention } from '@libs/audit';
import { createTestEnv, TestEnv } from '../support/test-env';

/** AUDIT_RETENTION_DAYS on real Postgres: old bodies, history and versions go, in batches; the rest stays. */
describe('audit retention', () => {
  let t: TestEnv;

  beforeAll(async () => {
    t = await createTestEnv('retention');
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('deletes bodies, history and source versions older than the retention, in batches, and keeps the rest', async () => {
    const rows = (days: number) => `now() - make_interval(days => ${days})`;
    for (const [key, age] of [
      ['OLD-1', 200],
      ['OLD-2', 181],
      ['OLD-3', 365],
      ['NEW-1', 10],
    ] as const) {
      const id = randomUUID();
      await t.ds.query(
        `INSERT INTO audit_attempts (attempt_id, scheme_id, source_key, bill_key, operation, outcome, request, reply, at)
         VALUES ($1, 's', $2, $2, 'BatchSave', 'rejected', '{}'::jsonb, '{}'::jsonb, ${rows(age)})`,
        [id, key],
      );
      await t.ds.query(
        `INSERT INTO audit_history (event_id, scheme_id, source_key, stage, status, occurred_at, recorded_at, event, attempt_id)
         VALUES ($1, 's', $2, 'loader', 'failed', ${rows(age)}, ${rows(age)}, '{}'::jsonb, $3)`,
        [randomUUID(), key, id],
      );
      await t.ds.query(
        `INSERT INTO source_versions (scheme_id, source_key, fingerprint, modified, first_offset, first_seen_at)
         VALUES ('s', $1, 'f', '2026-01-01 00:00:00', 1, ${rows(age)})`,
        [key],
      );
      await t.ds.query(
        `INSERT INTO audit_orders (scheme_id, source_key, status, stage, correlation_id, last_event_id, last_occurred_at,
           first_seen_at, updated_at)
         VALUES ('s', $1, 'failed', 'loader', $1, $2, ${rows(age)}, ${rows(age)}, ${rows(age)})`,
        [key, randomUUID()],
      );
    }
    const deleted = await new AuditRetention(t.ds, 180, 2).purge();
    expect(deleted).toBe(9); // 3 old rows in each of the 3 purged tables, 2 per statement
    for (const table of ['audit_attempts', 'audit_history', 'source_versions']) {
      const left = await t.ds.query(`SELECT source_key FROM ${table}`);
      expect([table, left.map((r: { source_key: string }) => r.source_key)]).toEqual([table, ['NEW-1']]);
    }
    // "Where is order X?" still answers for every order.
    expect(await t.ds.query(`SELECT count(*)::int AS n FROM audit_orders`)).toEqual([{ n: 4 }]);
  });
});
