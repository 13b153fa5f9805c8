export * from './parked-message.store';
export * from './scheme-holds.service';
export * from './parked-drainer';
