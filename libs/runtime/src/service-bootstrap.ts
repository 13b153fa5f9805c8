import { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { collectDefaultMetrics, register } from 'prom-client';
import { createLogger, PinoNestLogger } from './logger';

export interface BootOptions {
  service: string;
  /** Built inside the try block: config validation errors surface as clean boot failures. */
  module: () => DynamicModule;
  port: () => number;
}

/**
 * Boots a service: Nest on express, JSON logs, shutdown hooks (SIGTERM finishes in-flight work,
 * commits offsets, disconnects). A boot failure prints one clear line and exits non-zero.
 */
export async function bootstrapService(options: BootOptions): Promise<void> {
  const bootLogger = createLogger(options.service, process.env.LOG_LEVEL || 'info');
  try {
    // Every series of this process carries its service, pipeline metrics included.
    register.setDefaultLabels({ service: options.service });
    collectDefaultMetrics();
    const app = await NestFactory.create(options.module(), {
      logger: new PinoNestLogger(bootLogger),
      abortOnError: false,
    });
    app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
    const port = options.port();
    await app.listen(port, '0.0.0.0');
    bootLogger.info({ port }, `${options.service} listening`);
  } catch (err) {
    bootLogger.fatal({ err: (err as Error).message }, `${options.service} failed to start`);
    // stderr too: a person starting the process by hand sees why at once.
    console.error(`${options.service} failed to start: ${(err as Error).message}`);
    process.exit(1);
  }
}
