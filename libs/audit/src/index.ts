export * from './audit.publisher';
export * from './audit.repository';
export * from './audit.ingestor';
export * from './attempt-log';
export * from './order-facts';
export * from './audit-retention';
