export * from './scheme-registry';
export * from './transform.processor';
export * from './transform-processor.factory';
export * from './source-version.store';
