import { DynamicModule, Module } from '@nestjs/common';
import { InfrastructureModule } from '@libs/runtime';
import { LoaderController } from './loader.controller';
import { LOADER_PROVIDERS } from './loader.providers';
import { LoaderWorker } from './loader.worker';

@Module({})
export class LoaderModule {
  static create(): DynamicModule {
    return {
      module: LoaderModule,
      imports: [InfrastructureModule.forService('loader')],
      controllers: [LoaderController],
      providers: [...LOADER_PROVIDERS, LoaderWorker],
    };
  }
}
