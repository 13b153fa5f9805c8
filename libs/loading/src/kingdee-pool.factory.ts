import { AppLogger } from '@libs/common';
import { KingdeeClientOptions, KingdeeSessionPool, KingdeeSlotLeases } from '@libs/kingdee-client';

/**
 * A pool of Kingdee sessions of one connection (Kingdee serialises calls per session): `sessions` is
 * this process's share (the loader's KINGDEE_SESSIONS, the reconciler's RECONCILE_KINGDEE_SESSIONS).
 * With `shared` (a connection with a session cap), it uses only the slots it leases of the account's
 * cap, shared by every process.
 */
export function createKingdeePool(
  options: KingdeeClientOptions,
  sessions: number,
  logger: AppLogger,
  shared?: { leases: KingdeeSlotLeases; account: string; cap: number },
  connection?: string,
): KingdeeSessionPool {
  return new KingdeeSessionPool(
    { ...options, sessions },
    { logger, connection, ...(shared ? { slots: shared } : {}) },
  );
}
