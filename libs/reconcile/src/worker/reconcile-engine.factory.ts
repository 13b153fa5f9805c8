import { DataSource } from 'typeorm';
import type { Alert } from '@libs/alerts';
import type { AppLogger } from '@libs/common';
import type { TopicNames } from '@libs/contracts';
import { type EventProducer, KafkaReconcileSummaryPublisher } from '@libs/kafka';
import type { KingdeeApi } from '@libs/kingdee-client';
import type { Scheme } from '@libs/scheme';
import type { WdtStockoutReturnClient } from '@libs/wdt-client';
import type { PerScheme } from '../reconcile.types';
import { ReconcileRepushService } from '../run/reconcile-repush.service';
import { ReconcileRunService } from '../run/reconcile-run.service';
import { ReconcileRunStore } from '../run/reconcile-run.store';

/** The engine's parts a reconciler process (service or CLI) holds. */
export interface ReconcileEngine {
  runs: ReconcileRunStore;
  service: ReconcileRunService;
  repush: ReconcileRepushService;
}

/** The only place the worker and the CLI construct the engine (libs/reconcile/src/run). */
export function createReconcileEngine(deps: {
  ds: DataSource;
  schemes: (id: string) => Scheme | undefined;
  wdt: PerScheme<WdtStockoutReturnClient>;
  kingdee: PerScheme<KingdeeApi>;
  producer: EventProducer;
  topics: TopicNames;
  alerts?: { notify(alert: Alert): void };
  logger?: AppLogger;
  kingdeePageRows: number;
}): ReconcileEngine {
  return {
    runs: new ReconcileRunStore(deps.ds),
    service: new ReconcileRunService({
      ds: deps.ds,
      schemes: deps.schemes,
      wdt: deps.wdt,
      kingdee: deps.kingdee,
      summaries: new KafkaReconcileSummaryPublisher(deps.producer, deps.topics),
      alerts: deps.alerts,
      logger: deps.logger,
      kingdeePageRows: deps.kingdeePageRows,
    }),
    repush: new ReconcileRepushService({
      ds: deps.ds,
      schemes: deps.schemes,
      kingdee: deps.kingdee,
      logger: deps.logger,
    }),
  };
}
