export * from './logger';
export * from './tokens';
export * from './health.controller';
export * from './infrastructure.module';
export * from './service-bootstrap';
export * from './readiness';
export * from './scheme-watch.factory';
export * from './liveness';
