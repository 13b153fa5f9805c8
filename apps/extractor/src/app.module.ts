import { Module } from '@nestjs/common';
import { serviceModule } from '@libs/runtime';
import { EXTRACTOR_PROVIDERS } from './extractor.providers';
import { ExtractorWorker } from './extractor.worker';

@Module({})
export class ExtractorModule {
  static create = () =>
    serviceModule(ExtractorModule, 'extractor', { providers: [...EXTRACTOR_PROVIDERS, ExtractorWorker] });
}
