import { AppLogger } from '@libs/common';
import { ConnectionRegistry } from '@libs/connections';
import { KingdeeSessionPool, KingdeeSlotLeases } from '@libs/kingdee-client';
import { createKingdeePool } from '@libs/loading';
import { Scheme } from '@libs/scheme';
import { createWdtClient, WdtCallGate, WdtStockoutReturnClient } from '@libs/wdt-client';

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
  shared: { gate?: WdtCallGate; slots?: KingdeeSlotLeases } = {},
): { wdt: (scheme: Scheme) => WdtStockoutReturnClient; kingdee: (scheme: Scheme) => KingdeeSessionPool } {
  const wdt = new Map<string, WdtStockoutReturnClient>();
  const kingdee = new Map<string, KingdeeSessionPool>();
  return {
    wdt: (scheme) => {
      const name = scheme.source.connection;
      let client = wdt.get(name);
      if (!client) {
        const connection = registry.wdt(name);
        client = createWdtClient(connection.clientOptions, logger, {
          connection: name,
          ...(shared.gate ? { gate: shared.gate, budgetKey: connection.budgetKey } : {}),
        });
        wdt.set(name, client);
      }
      return client;
    },
    kingdee: (scheme) => {
      const name = scheme.target.connection;
      let pool = kingdee.get(name);
      if (!pool) {
        const connection = registry.kingdee(name);
        pool = createKingdeePool(
          connection.clientOptions,
          sessions,
          logger,
          shared.slots && connection.sessionCap !== undefined
            ? { leases: shared.slots, account: connection.account, cap: connection.sessionCap }
            : undefined,
          name,
        );
        kingdee.set(name, pool);
      }
      return pool;
    },
  };
}
