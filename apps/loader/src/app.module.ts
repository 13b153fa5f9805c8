import { DynamicModule, Module } from '@nestjs/common';
import { InfrastructureModule, schemeWatcherProvider } from '@libs/runtime';
import { LoaderController } from './loader.controller';
import { LoaderWorker } from './loader.worker';

@Module({})
export class LoaderModule {
  static create(): DynamicModule {
    return {
      module: LoaderModule,
      imports: [InfrastructureModule.forService('loader')],
      controllers: [LoaderController],
      providers: [
        schemeWatcherProvider({
          identity: true,
          // A scheme writing to a connection this deployment does not have is refused (the last good
          // version, if any, stays); scheme:check says so before deploying.
          accept: (connections) => (next) =>
            connections?.hasKingdee(next.target.connection)
              ? undefined
              : `target.connection "${next.target.connection}" is not a Kingdee connection of this deployment (known: ${connections?.kingdeeNames().join(', ') || 'none'})`,
        }),
        LoaderWorker,
      ],
    };
  }
}
