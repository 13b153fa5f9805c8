export * from './scheme-registry';
export * from './transform.processor';
export * from './transform-processor.factory';
export * from './source-version.store';
export * from './transform-replay.runner';
export * from './transformer-requests.service';
