export * from './window-planner';
export * from './fingerprint.util';
export * from './extraction.ports';
export * from './extraction.service';
export * from './postgres-extraction.store';
export * from './kafka-raw-event.sink';
export * from './leader-lease';
export * from './extraction.scheduler';
