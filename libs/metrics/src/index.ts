export * from './pipeline.metrics';
export * from './correlation.util';
