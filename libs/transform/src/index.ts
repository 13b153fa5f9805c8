export * from './scheme-registry';
export * from './transform.processor';
