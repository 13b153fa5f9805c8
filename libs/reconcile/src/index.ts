export * from './reconcile.types';
export * from './reconcile.errors';
export * from './comparison-plan.util';
export * from './field-compare.util';
export * from './reconcile-classifier';
export * from './bill-rows.util';
export * from './reconcile-merge';
export * from './run';
