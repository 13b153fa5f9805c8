export * from './claim.store';
export * from './loader-circuit';
export * from './load.processor';
export * from './kingdee-pool.factory';
export * from './load-processor.factory';
