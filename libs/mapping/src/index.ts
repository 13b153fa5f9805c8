export * from './mapping.errors';
export * from './compile-scheme.util';
export * from './build-request.util';
export * from './formula-functions.util';
export { previewValue } from './record-access.util';
export * from './scheme-check.util';
