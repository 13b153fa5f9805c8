import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';

export type ResyncTrigger = 'resync' | 'repush';

/**
 * Inserts resync requests (table resync_requests): the extractor leader re-fetches the order from
 * WDT with a narrow window and re-emits it. One pending request per scheme and order is enough, so
 * a second request while one is pending returns the pending one. Shared by the operator API and the
 * reconciler (re-push of a missing bill).
 */
export class ResyncRequestStore {
  /** Call inside a transaction: the advisory lock serialises requests for one order until it ends. */
  async request(
    manager: EntityManager,
    schemeId: string,
    orderNo: string,
    requestedBy: string,
    trigger: ResyncTrigger = 'resync',
  ): Promise<{ id: string; state: string; created: boolean }> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`resync:${schemeId}:${orderNo}`]);
    const pending: Array<{ id: string }> = await manager.query(
      `SELECT id::text AS id FROM resync_requests WHERE scheme_id = $1 AND order_no = $2 AND state = 'pending'
        ORDER BY requested_at LIMIT 1`,
      [schemeId, orderNo],
    );
    if (pending[0]) return { id: pending[0].id, state: 'pending', created: false };
    const id = randomUUID();
    await manager.query(
      `INSERT INTO resync_requests (id, scheme_id, order_no, requested_by, requested_at, state, trigger)
       VALUES ($1, $2, $3, $4, now(), 'pending', $5)`,
      [id, schemeId, orderNo, requestedBy, trigger],
    );
    return { id, state: 'pending', created: true };
  }
}
