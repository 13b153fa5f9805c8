import { DynamicModule, Module } from '@nestjs/common';
import { InfrastructureModule } from '@libs/runtime';
import { TransformerController } from './transformer.controller';
import { TRANSFORMER_PROVIDERS } from './transformer.providers';
import { TransformerWorker } from './transformer.worker';

@Module({})
export class TransformerModule {
  static create(): DynamicModule {
    return {
      module: TransformerModule,
      imports: [InfrastructureModule.forService('transformer')],
      controllers: [TransformerController],
      providers: [...TRANSFORMER_PROVIDERS, TransformerWorker],
    };
  }
}
