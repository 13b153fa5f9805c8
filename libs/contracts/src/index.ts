export * from './topics';
export * from './events.schema';
export * from './event-codec';
export * from './asyncapi.document';
export * from './personal-data';
