// STAND-IN: replaced by the engine branch. Marks every run failed: the engine is not on this branch.
import { DataSource } from 'typeorm';
import type { Alert } from '@libs/alerts';
import type { AppLogger, Clock } from '@libs/common';
import type { KingdeeApi } from '@libs/kingdee-client';
import type { Scheme } from '@libs/scheme';
import type { WdtStockoutReturnClient } from '@libs/wdt-client';
import { ReconcileRunStore } from './reconcile-run.store';
import type { ReconcileProgress, ReconcileRunView } from './reconcile-run.types';
import type { ReconcileSummaryPublisher } from './reconcile-summary.publisher';

export type StockoutPageSource = WdtStockoutReturnClient;

export interface ReconcileRunDeps {
  ds: DataSource;
  schemes: (id: string) => Scheme | undefined;
  wdt: StockoutPageSource;
  kingdee: KingdeeApi;
  summaries: ReconcileSummaryPublisher;
  alerts?: { notify(alert: Alert): void };
  clock?: Clock;
  logger?: AppLogger;
  kingdeePageRows?: number;
}

export class ReconcileRunService {
  constructor(private readonly deps: ReconcileRunDeps) {}

  async run(
    runId: string,
    owner: string,
    ctx: { signal: AbortSignal; onProgress?: (p: ReconcileProgress) => void },
  ): Promise<ReconcileRunView> {
    ctx.signal.throwIfAborted();
    await this.deps.ds.query(
      `UPDATE reconcile_runs SET state = 'failed', error = $3, finished_at = now(), lease_until = NULL
       WHERE id = $1 AND owner = $2 AND state = 'running'`,
      [runId, owner, 'reconciliation engine not built into this version (stand-in)'],
    );
    return (await new ReconcileRunStore(this.deps.ds).get(runId))!;
  }
}
