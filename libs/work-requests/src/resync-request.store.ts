import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { ResyncRequestEntity } from '@libs/database';

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
    // Raw: an advisory lock (TypeORM has no API for one).
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`resync:${schemeId}:${orderNo}`]);
    const requests = manager.getRepository(ResyncRequestEntity);
    const pending = await requests.findOne({
      select: { id: true },
      where: { schemeId, orderNo, state: 'pending' },
      order: { requestedAt: 'ASC' },
    });
    if (pending) return { id: pending.id, state: 'pending', created: false };
    const id = randomUUID();
    await requests.insert({
      id,
      schemeId,
      orderNo,
      requestedBy,
      requestedAt: () => 'now()',
      state: 'pending',
      trigger,
    });
    return { id, state: 'pending', created: true };
  }
}
