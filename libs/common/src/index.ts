export * from './clock';
export * from './logger';
export * from './shanghai-time';
export * from './time-clusters';
export * from './service-node-flags';
export * from './backoff';
