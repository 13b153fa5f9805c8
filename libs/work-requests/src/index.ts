export * from './range-request.store';
export * from './preview-request.store';
export * from './work-request.poller';
export * from './resync-request.store';
