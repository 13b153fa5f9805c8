export * from './claim.store';
export * from './loader-circuit';
export * from './load.processor';
