import { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { KafkaBatchTransport } from '@libs/kafka';
import { collectDefaultMetrics, register } from 'prom-client';
import { Logger } from 'nestjs-pino';
import { createLogger } from './logger';

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
    // Nest's own lines wait for nestjs-pino's logger (the service's root logger, redaction included).
    const app = await NestFactory.create(options.module(), { bufferLogs: true, abortOnError: false });
    app.useLogger(app.get(Logger));
    await startKafkaTransport(app);
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

/**
 * Connects the service's Kafka transport (its `@EventPattern` handlers) and starts it after the
 * application's bootstrap hooks: the workers register their consumers there, the transport starts
 * them. A service without Kafka handlers starts none.
 */
export async function startKafkaTransport(app: INestApplication): Promise<void> {
  app.connectMicroservice({ strategy: app.get(KafkaBatchTransport) });
  await app.init();
  await app.startAllMicroservices();
}
