export * from './kafka.factory';
export * from './deterministic-id';
export * from './event-producer';
export * from './batch-consumer';
export * from './dead-letter.publisher';
export * from './topic-provisioner';
export * from './topic-range.reader';
export * from './missing-topic.error';
