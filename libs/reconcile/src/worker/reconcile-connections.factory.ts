import { AppLogger } from '@libs/common';
import { ReconcilerConfig } from '@libs/config';
import { KingdeeSessionPool } from '@libs/kingdee-client';
import { createKingdeePool } from '@libs/loading';
import { createWdtClient, WdtStockoutReturnClient } from '@libs/wdt-client';

/**
 * The reconciler's two connections: the WDT client (the process-wide limiter of WDT_CALLS_PER_MINUTE;
 * the engine calls it at `background` priority) and a Kingdee pool of RECONCILE_KINGDEE_SESSIONS
 * sessions, so a reconciliation never takes more of the account's sessions than that.
 */
export function createReconcileConnections(
  config: ReconcilerConfig,
  logger: AppLogger,
): { wdt: WdtStockoutReturnClient; kingdee: KingdeeSessionPool } {
  return {
    wdt: createWdtClient(config, logger),
    kingdee: createKingdeePool({ ...config, KINGDEE_SESSIONS: config.RECONCILE_KINGDEE_SESSIONS }, logger),
  };
}
