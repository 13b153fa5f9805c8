import { DynamicModule, Module } from '@nestjs/common';
import { InfrastructureModule } from '@libs/runtime';
import { EXTRACTOR_PROVIDERS } from './extractor.providers';
import { ExtractorWorker } from './extractor.worker';

@Module({})
export class ExtractorModule {
  static create(): DynamicModule {
    return {
      module: ExtractorModule,
      imports: [InfrastructureModule.forService('extractor')],
      providers: [...EXTRACTOR_PROVIDERS, ExtractorWorker],
    };
  }
}
