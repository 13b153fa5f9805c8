import { DynamicModule, Module } from '@nestjs/common';
import { InfrastructureModule } from '@libs/runtime';
import { RECONCILER_PROVIDERS } from './reconciler.providers';
import { ReconcilerWorker } from './reconciler.worker';

@Module({})
export class ReconcilerModule {
  static create(): DynamicModule {
    return {
      module: ReconcilerModule,
      imports: [InfrastructureModule.forService('reconciler')],
      providers: [...RECONCILER_PROVIDERS, ReconcilerWorker],
    };
  }
}
