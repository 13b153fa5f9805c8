import { Module } from '@nestjs/common';
import { serviceModule } from '@libs/runtime';
import { RECONCILER_PROVIDERS } from './reconciler.providers';
import { ReconcilerWorker } from './reconciler.worker';

@Module({})
export class ReconcilerModule {
  static create = () =>
    serviceModule(ReconcilerModule, 'reconciler', { providers: [...RECONCILER_PROVIDERS, ReconcilerWorker] });
}
