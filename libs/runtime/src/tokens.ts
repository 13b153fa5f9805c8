/** Injection tokens of the shared infrastructure providers. */
export const CONFIG = Symbol('CONFIG');
export const LOGGER = Symbol('LOGGER');
export const KAFKA = Symbol('KAFKA');
export const PRODUCER = Symbol('PRODUCER');
export const DATA_SOURCE = Symbol('DATA_SOURCE');
export const TOPICS = Symbol('TOPICS');
export const DEAD_LETTERS = Symbol('DEAD_LETTERS');
export const AUDIT_PUBLISHER = Symbol('AUDIT_PUBLISHER');
export const SERVICE_NAME = Symbol('SERVICE_NAME');
export const READINESS = Symbol('READINESS');
/** The process's `Liveness` (consumers' progress behind `/health`). */
export const LIVENESS = Symbol('LIVENESS');
/** The process's `ConnectionRegistry` (@libs/connections): extractor, loader, reconciler, operator. */
export const CONNECTIONS = Symbol('CONNECTIONS');
/** This process's name among its replicas (`<hostname>-<pid>`): owner of its leases, claims and status rows. */
export const INSTANCE = Symbol('INSTANCE');
