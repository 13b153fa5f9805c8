import { DataSource, EntityManager, In } from 'typeorm';
import { ResyncRequestEntity, StockoutFingerprintEntity, SyncCursorEntity } from '@libs/database';
import { CursorState, EmittedOrder, ExtractionStore } from './extraction.ports';

const now = () => 'now()';

/** Cursors and fingerprints in Postgres (tables sync_cursors, stockout_fingerprints). */
export class PostgresExtractionStore implements ExtractionStore {
  constructor(private readonly ds: DataSource) {}

  private cursors(manager: EntityManager = this.ds.manager) {
    return manager.getRepository(SyncCursorEntity);
  }

  async getCursor(schemeId: string): Promise<CursorState | undefined> {
    const row = await this.cursors().findOne({
      select: { axis: true, cursorValue: true, paused: true, sweepValue: true },
      where: { schemeId },
    });
    return row
      ? { axis: row.axis, cursorValue: row.cursorValue, paused: row.paused, sweepValue: row.sweepValue }
      : undefined;
  }

  async getFingerprints(schemeId: string, orderNos: string[]): Promise<Map<string, string>> {
    if (orderNos.length === 0) return new Map();
    const rows = await this.ds.getRepository(StockoutFingerprintEntity).find({
      select: { orderNo: true, fingerprint: true },
      where: { schemeId, orderNo: In(orderNos) },
    });
    return new Map(rows.map((r) => [r.orderNo, r.fingerprint]));
  }

  async commitWindow(
    schemeId: string,
    emitted: EmittedOrder[],
    cursor?: { axis: string; value: string },
    sweepValue?: string,
  ): Promise<void> {
    await this.ds.transaction(async (tx) => {
      // Rows in key order (the poll and a lookback beside it may commit at once: no lock-order deadlock);
      // an older version read by one never replaces the newer one the other wrote.
      if (emitted.length > 0) {
        // Raw: a conditional upsert (DO UPDATE … WHERE the stored version is not newer) over an unnest batch.
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
        await this.cursors(tx)
          .createQueryBuilder()
          .insert()
          .values({ schemeId, axis: cursor.axis, cursorValue: cursor.value, updatedAt: now })
          .orUpdate(['axis', 'cursor_value', 'updated_at'], ['scheme_id'])
          .execute();
      }
      if (sweepValue) await this.cursors(tx).update({ schemeId }, { sweepValue, updatedAt: now });
    });
  }

  async recordRun(
    schemeId: string,
    outcome: { ok: boolean; error?: string },
    start?: { axis: string; cursorValue: string },
  ): Promise<void> {
    const lastError = (outcome.error ?? '').slice(0, 2000);
    if (start && !outcome.ok) {
      await this.cursors()
        .createQueryBuilder()
        .insert()
        .values({
          schemeId,
          axis: start.axis,
          cursorValue: start.cursorValue,
          lastRunAt: now,
          lastError,
          updatedAt: now,
        })
        .orUpdate(['last_run_at', 'last_error'], ['scheme_id'])
        .execute();
      return;
    }
    await this.cursors().update(
      { schemeId },
      outcome.ok ? { lastRunAt: now, lastSuccessAt: now, lastError: null } : { lastRunAt: now, lastError },
    );
  }

  async setPaused(schemeId: string, paused: boolean, axis: string, initial: string): Promise<void> {
    await this.cursors()
      .createQueryBuilder()
      .insert()
      .values({ schemeId, axis, cursorValue: initial, paused, updatedAt: now })
      .orUpdate(['paused', 'updated_at'], ['scheme_id'])
      .execute();
  }

  async knownOrder(
    schemeId: string,
    orderNo: string,
  ): Promise<{ consignTime: string | null; modified: string | null } | undefined> {
    const row = await this.ds.getRepository(StockoutFingerprintEntity).findOne({
      select: { consignTime: true, modified: true },
      where: { schemeId, orderNo },
    });
    return row ? { consignTime: row.consignTime, modified: row.modified } : undefined;
  }

  async takeResyncRequests(
    schemeId: string,
    limit: number,
  ): Promise<Array<{ id: string; orderNo: string; trigger: 'resync' | 'repush' }>> {
    // Only the scheme's leader calls this, so a plain read is enough; order keeps requests fair.
    const rows = await this.ds.getRepository(ResyncRequestEntity).find({
      select: { id: true, orderNo: true, trigger: true },
      where: { schemeId, state: 'pending' },
      order: { requestedAt: 'ASC' },
      take: limit,
    });
    return rows.map((r) => ({
      id: r.id,
      orderNo: r.orderNo,
      trigger: r.trigger === 'repush' ? 'repush' : 'resync',
    }));
  }

  async completeResync(id: string, state: 'done' | 'not_found' | 'failed', result: string): Promise<void> {
    await this.ds
      .getRepository(ResyncRequestEntity)
      .update({ id, state: 'pending' }, { state, result: result.slice(0, 2000), doneAt: now });
  }
}
