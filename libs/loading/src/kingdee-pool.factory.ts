import { AppLogger } from '@libs/common';
import { KingdeeClientOptions, KingdeeSessionPool } from '@libs/kingdee-client';

/**
 * A pool of Kingdee sessions of one connection (Kingdee serialises calls per session): `sessions` is
 * this process's share (the loader's KINGDEE_SESSIONS, the reconciler's RECONCILE_KINGDEE_SESSIONS).
 */
export function createKingdeePool(
  options: KingdeeClientOptions,
  sessions: number,
  logger: AppLogger,
): KingdeeSessionPool {
  return new KingdeeSessionPool({ ...options, sessions }, { logger });
}
