import { DynamicModule, Module } from '@nestjs/common';
import { InfrastructureModule, schemeWatcherProvider } from '@libs/runtime';
import { ExtractorWorker } from './extractor.worker';

@Module({})
export class ExtractorModule {
  static create(): DynamicModule {
    return {
      module: ExtractorModule,
      imports: [InfrastructureModule.forService('extractor')],
      providers: [schemeWatcherProvider({ identity: true }), ExtractorWorker],
    };
  }
}
