export * from './call-stats';
export * from './knobs';
export * from './order-generator';
export * from './order-store';
export * from './reference-data';
export * from './sandbox-state';
export * from './wdt-sandbox.server';
export * from './page-corruptor';
