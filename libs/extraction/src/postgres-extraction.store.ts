import { DataSource } from 'typeorm';
import { CursorState, ExtractionStore } from './extraction.ports';

/** Cursors and fingerprints in Postgres (tables sync_cursors, stockout_fingerprints). */
export class PostgresExtractionStore implements ExtractionStore {
  constructor(private readonly ds: DataSource) {}

  async getCursor(schemeId: string): Promise<CursorState | undefined> {
    const rows: Array<{ axis: string; cursor_value: string; paused: boolean; sweep_value: string | null }> =
      await this.ds.query(
        `SELECT axis, cursor_value, paused, sweep_value FROM sync_cursors WHERE scheme_id = $1`,
        [schemeId],
      );
    const row = rows[0];
    return row
      ? { axis: row.axis, cursorValue: row.cursor_value, paused: row.paused, sweepValue: row.sweep_value }
      : undefined;
  }

  async getFingerprints(schemeId: string, orderNos: string[]): Promise<Map<string, string>> {
    if (orderNos.length === 0) return new Map();
    const rows: Array<{ order_no: string; fingerprint: string }> = await this.ds.query(
      `SELECT order_no, fingerprint FROM stockout_fingerprints WHERE scheme_id = $1 AND order_no = ANY($2::text[])`,
      [schemeId, orderNos],
    );
    return new Map(rows.map((r) => [r.order_no, r.fingerprint]));
  }

  async commitWindow(
    schemeId: string,
    emitted: Array<{
      orderNo: string;
      fingerprint: string;
      modified: string | null;
      consignTime: string | null;
    }>,
    cursor?: { axis: string; value: string },
    sweepValue?: string,
  ): Promise<void> {
    await this.ds.transaction(async (tx) => {
      // Rows in key order (the poll and a lookback beside it may commit at once: no lock-order deadlock);
      // an older version read by one never replaces the newer one the other wrote.
      if (emitted.length > 0) {
        await tx.query(
          `INSERT INTO stockout_fingerprints (scheme_id, order_no, fingerprint, modified, consign_time, last_emitted_at)
           SELECT $1, u.order_no, u.fingerprint, u.modified, u.consign_time, now()
             FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(order_no, fingerprint, modified, consign_time)
            ORDER BY u.order_no
           ON CONFLICT (scheme_id, order_no) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,
             modified = EXCLUDED.modified, consign_time = EXCLUDED.consign_time, last_emitted_at = now()
           WHERE stockout_fingerprints.modified IS NULL OR EXCLUDED.modified IS NULL
              OR EXCLUDED.modified >= stockout_fingerprints.modified`,
          [
            schemeId,
            emitted.map((e) => e.orderNo),
            emitted.map((e) => e.fingerprint),
            emitted.map((e) => e.modified),
            emitted.map((e) => e.consignTime),
          ],
        );
      }
      if (cursor) {
        await tx.query(
          `INSERT INTO sync_cursors (scheme_id, axis, cursor_value, updated_at) VALUES ($1, $2, $3, now())
           ON CONFLICT (scheme_id) DO UPDATE SET axis = EXCLUDED.axis, cursor_value = EXCLUDED.cursor_value, updated_at = now()`,
          [schemeId, cursor.axis, cursor.value],
        );
      }
      if (sweepValue) {
        await tx.query(`UPDATE sync_cursors SET sweep_value = $2, updated_at = now() WHERE scheme_id = $1`, [
          schemeId,
          sweepValue,
        ]);
      }
    });
  }

  async recordRun(
    schemeId: string,
    outcome: { ok: boolean; error?: string },
    start?: { axis: string; cursorValue: string },
  ): Promise<void> {
    if (start && !outcome.ok) {
      await this.ds.query(
        `INSERT INTO sync_cursors (scheme_id, axis, cursor_value, last_run_at, last_error, updated_at)
         VALUES ($1, $2, $3, now(), $4, now())
         ON CONFLICT (scheme_id) DO UPDATE SET last_run_at = now(), last_error = EXCLUDED.last_error`,
        [schemeId, start.axis, start.cursorValue, (outcome.error ?? '').slice(0, 2000)],
      );
      return;
    }
    await this.ds.query(
      outcome.ok
        ? `UPDATE sync_cursors SET last_run_at = now(), last_success_at = now(), last_error = NULL WHERE scheme_id = $1`
        : `UPDATE sync_cursors SET last_run_at = now(), last_error = $2 WHERE scheme_id = $1`,
      outcome.ok ? [schemeId] : [schemeId, (outcome.error ?? '').slice(0, 2000)],
    );
  }

  async setPaused(schemeId: string, paused: boolean, axis: string, initial: string): Promise<void> {
    await this.ds.query(
      `INSERT INTO sync_cursors (scheme_id, axis, cursor_value, paused, updated_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (scheme_id) DO UPDATE SET paused = EXCLUDED.paused, updated_at = now()`,
      [schemeId, axis, initial, paused],
    );
  }

  async knownOrder(
    schemeId: string,
    orderNo: string,
  ): Promise<{ consignTime: string | null; modified: string | null } | undefined> {
    const rows: Array<{ consign_time: string | null; modified: string | null }> = await this.ds.query(
      `SELECT consign_time, modified FROM stockout_fingerprints WHERE scheme_id = $1 AND order_no = $2`,
      [schemeId, orderNo],
    );
    return rows[0] ? { consignTime: rows[0].consign_time, modified: rows[0].modified } : undefined;
  }

  async takeResyncRequests(
    schemeId: string,
    limit: number,
  ): Promise<Array<{ id: string; orderNo: string; trigger: 'resync' | 'repush' }>> {
    // Only the scheme's leader calls this, so a plain read is enough; order keeps requests fair.
    const rows: Array<{ id: string; order_no: string; trigger: string }> = await this.ds.query(
      `SELECT id::text AS id, order_no, trigger FROM resync_requests WHERE scheme_id = $1 AND state = 'pending'
        ORDER BY requested_at LIMIT $2`,
      [schemeId, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      orderNo: r.order_no,
      trigger: r.trigger === 'repush' ? 'repush' : 'resync',
    }));
  }

  async completeResync(id: string, state: 'done' | 'not_found' | 'failed', result: string): Promise<void> {
    await this.ds.query(
      `UPDATE resync_requests SET state = $2, result = $3, done_at = now() WHERE id = $1 AND state = 'pending'`,
      [id, state, result.slice(0, 2000)],
    );
  }
}
