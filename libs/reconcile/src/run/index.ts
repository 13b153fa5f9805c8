export * from './reconcile-run.types';
export * from './reconcile-run.store';
export * from './reconcile-staging.store';
export * from './reconcile-summary.util';
export * from './wdt-source.reader';
export * from './kingdee-target.reader';
export * from './postgres-trail.lookup';
export * from './reconcile-run.service';
