export * from './reconcile-scheduler';
export * from './reconcile-run.executor';
export * from './reconcile.pollers';
export * from './reconcile-connections.factory';
export * from './reconcile-engine.factory';
export * from './reconcile-findings.reader';
