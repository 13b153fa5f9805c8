export * from './audit.publisher';
export * from './audit.repository';
export * from './audit.ingestor';
