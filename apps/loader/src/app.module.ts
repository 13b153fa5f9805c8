import { Module } from '@nestjs/common';
import { serviceModule } from '@libs/runtime';
import { LoaderController } from './loader.controller';
import { LOADER_PROVIDERS } from './loader.providers';
import { LoaderWorker } from './loader.worker';

@Module({})
export class LoaderModule {
  static create = () =>
    serviceModule(LoaderModule, 'loader', {
      controllers: [LoaderController],
      providers: [...LOADER_PROVIDERS, LoaderWorker],
    });
}
