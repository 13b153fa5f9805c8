import { AppLogger } from '@libs/common';
import { ConnectionRegistry } from '@libs/connections';
import { KingdeeSessionPool } from '@libs/kingdee-client';
import { createKingdeePool } from '@libs/loading';
import { Scheme } from '@libs/scheme';
import { createWdtClient, WdtStockoutReturnClient } from '@libs/wdt-client';

/**
 * The reconciler's connections, per scheme: the WDT client of `source.connection` (the process-wide
 * limiter of its app key; the engine calls it at `background` priority) and a Kingdee pool of
 * `sessions` sessions on `target.connection`, so a reconciliation never takes more of the account's
 * sessions than that. Each is made on first use and shared by the schemes on the same connection.
 */
export function createReconcileConnections(
  registry: ConnectionRegistry,
  sessions: number,
  logger: AppLogger,
): { wdt: (scheme: Scheme) => WdtStockoutReturnClient; kingdee: (scheme: Scheme) => KingdeeSessionPool } {
  const wdt = new Map<string, WdtStockoutReturnClient>();
  const kingdee = new Map<string, KingdeeSessionPool>();
  return {
    wdt: (scheme) => {
      const name = scheme.source.connection;
      let client = wdt.get(name);
      if (!client) {
        client = createWdtClient(registry.wdt(name).clientOptions, logger);
        wdt.set(name, client);
      }
      return client;
    },
    kingdee: (scheme) => {
      const name = scheme.target.connection;
      let pool = kingdee.get(name);
      if (!pool) {
        pool = createKingdeePool(registry.kingdee(name).clientOptions, sessions, logger);
        kingdee.set(name, pool);
      }
      return pool;
    },
  };
}
