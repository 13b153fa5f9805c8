import { Module } from '@nestjs/common';
import { serviceModule } from '@libs/runtime';
import { TransformerController } from './transformer.controller';
import { TRANSFORMER_PROVIDERS } from './transformer.providers';
import { TransformerWorker } from './transformer.worker';

@Module({})
export class TransformerModule {
  static create = () =>
    serviceModule(TransformerModule, 'transformer', {
      controllers: [TransformerController],
      providers: [...TRANSFORMER_PROVIDERS, TransformerWorker],
    });
}
