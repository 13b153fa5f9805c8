import { DynamicModule, Module } from '@nestjs/common';
import { InfrastructureModule } from '@libs/runtime';
import { ExtractorWorker } from './extractor.worker';

@Module({})
export class ExtractorModule {
  static create(): DynamicModule {
    return {
      module: ExtractorModule,
      imports: [InfrastructureModule.forService('extractor')],
      providers: [ExtractorWorker],
    };
  }
}
