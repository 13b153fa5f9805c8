export * from './env.schema';
export * from './load-config';
export * from './env-file';
export * from './operator-tokens.schema';
