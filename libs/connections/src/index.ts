export * from './connections.errors';
export * from './connections.schema';
export * from './secret-ref.util';
export * from './connection.registry';
export * from './connections.loader';
export type { ConnectionsOutline } from '@libs/scheme';
