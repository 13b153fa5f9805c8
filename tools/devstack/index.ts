export * from './free-port.util';
export * from './managed-process';
export * from './stack-runner';
export * from './isolated-env';
export * from './bench.util';
