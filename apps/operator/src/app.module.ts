import { DynamicModule, Module } from '@nestjs/common';
import { OperatorModule, OperatorModuleOptions } from '@libs/operator';
import { InfrastructureModule } from '@libs/runtime';

@Module({})
export class OperatorAppModule {
  static create(
    env: Record<string, string | undefined> = process.env,
    options: OperatorModuleOptions = {},
  ): DynamicModule {
    return {
      module: OperatorAppModule,
      imports: [InfrastructureModule.forService('operator', env), OperatorModule.register(options)],
    };
  }
}
