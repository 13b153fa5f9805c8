import { DynamicModule, Module } from '@nestjs/common';
import { ServeStaticModule } from '@nestjs/serve-static';
import { OperatorConfig } from '@libs/config';
import {
  ConsoleNotBuiltPage,
  consoleDir,
  consoleServeOptions,
  OperatorModule,
  OperatorModuleOptions,
} from '@libs/operator';
import { CONFIG, InfrastructureModule } from '@libs/runtime';

@Module({})
export class OperatorAppModule {
  static create(
    env: Record<string, string | undefined> = process.env,
    options: OperatorModuleOptions = {},
  ): DynamicModule {
    return {
      module: OperatorAppModule,
      imports: [
        InfrastructureModule.forService('operator', env),
        OperatorModule.register(options),
        // The console's bundle at `/` (index.html for its client routes), never over /api or the probes.
        ServeStaticModule.forRootAsync({
          inject: [CONFIG],
          useFactory: (config: OperatorConfig) => consoleServeOptions(consoleDir(config)),
        }),
      ],
      providers: [ConsoleNotBuiltPage],
    };
  }
}
