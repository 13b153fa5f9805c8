import { DynamicModule, Module } from '@nestjs/common';
import { InfrastructureModule, schemeWatcherProvider } from '@libs/runtime';
import { ReconcilerWorker } from './reconciler.worker';

@Module({})
export class ReconcilerModule {
  static create(): DynamicModule {
    return {
      module: ReconcilerModule,
      imports: [InfrastructureModule.forService('reconciler')],
      providers: [schemeWatcherProvider({ identity: true }), ReconcilerWorker],
    };
  }
}
