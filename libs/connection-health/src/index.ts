export * from './connection-test.util';
export * from './connection-test.store';
export * from './connection-test.worker';
export * from './connection-status.recorder';
export * from './connection-test.runner';
