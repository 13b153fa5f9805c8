import { DynamicModule, Provider, Type } from '@nestjs/common';
import { ServiceName } from '@libs/config';
import { InfrastructureModule } from './infrastructure.module';

/**
 * A worker service's root module: the service's InfrastructureModule (config, Postgres, Kafka,
 * logger, probes) with its own controllers and providers.
 */
export function serviceModule(
  module: Type,
  service: ServiceName,
  parts: { controllers?: Type[]; providers: Provider[] },
): DynamicModule {
  return {
    module,
    imports: [InfrastructureModule.forService(service)],
    controllers: parts.controllers ?? [],
    providers: parts.providers,
  };
}
