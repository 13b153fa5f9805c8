import { resolve } from 'node:path';
import { DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ServiceName } from './env.schema';
import { loadServiceConfig, ServiceConfig } from './load-config';

/** Read from the working directory by every service and CLI; real environment variables win. */
export const ENV_FILE = '.env';

export interface ServiceEnvironment<S extends ServiceName> {
  config: ServiceConfig<S>;
  /** @nestjs/config's global ConfigModule, for Nest apps (ConfigService holds the raw variables). */
  module: DynamicModule;
}

/**
 * A service's configuration as every service and CLI reads it, through @nestjs/config's
 * ConfigModule: `.env` of the working directory under the real environment (a real variable wins
 * over the file), validated by the service's zod schema — a missing or malformed variable, in the
 * file or not, stops the process with its name. Values from `.env` are also put into `process.env`
 * (where unset), so code reading it directly (ports, log level, topic names) sees the same values.
 *
 * An explicit `env` other than `process.env` (tests) is taken as it is: no `.env`, `process.env`
 * untouched.
 */
export async function loadServiceEnvironment<S extends ServiceName>(
  service: S,
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<ServiceEnvironment<S>> {
  const explicit = options.env !== undefined && options.env !== process.env;
  let config: ServiceConfig<S> | undefined;
  const module = await ConfigModule.forRoot({
    isGlobal: true,
    envFilePath: resolve(options.cwd ?? process.cwd(), ENV_FILE),
    ignoreEnvFile: explicit,
    ignoreEnvVars: explicit,
    validate: (raw: Record<string, string | undefined>) => {
      config = loadServiceConfig(service, explicit ? options.env : raw);
      // What ConfigModule copies into process.env (missing keys only): the raw strings.
      return explicit ? {} : raw;
    },
  });
  if (!config) throw new Error(`configuration of ${service} was not validated`);
  return { config, module };
}

/** `.env` of the working directory into `process.env` (where unset), for tools without a service schema. */
export async function loadEnvFile(cwd: string = process.cwd()): Promise<void> {
  await ConfigModule.forRoot({ envFilePath: resolve(cwd, ENV_FILE) });
}
