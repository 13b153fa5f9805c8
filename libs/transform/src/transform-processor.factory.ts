import { DataSource } from 'typeorm';
import { AuditPublisher } from '@libs/audit';
import { AppLogger } from '@libs/common';
import { TransformerConfig } from '@libs/config';
import { TopicNames } from '@libs/contracts';
import { PostgresPayloadStore } from '@libs/database';
import { DeadLetterPublisher, EventProducer } from '@libs/kafka';
import { SchemeRegistry } from './scheme-registry';
import { PostgresSourceVersions } from './source-version.store';
import { TransformParking, TransformProcessor } from './transform.processor';

/** The transformer's processor wired from validated config: used by the service and by replay. */
export function createTransformProcessor(deps: {
  config: TransformerConfig;
  ds: DataSource;
  producer: EventProducer;
  topics: TopicNames;
  logger: AppLogger;
  registry?: SchemeRegistry;
  /** Park raw events of paused schemes (the transformer service; not replay). */
  parking?: TransformParking;
}): { processor: TransformProcessor; registry: SchemeRegistry } {
  const registry = deps.registry ?? new SchemeRegistry(deps.config.SCHEMES_DIR, deps.logger);
  if (!deps.registry) registry.load();
  const processor = new TransformProcessor(
    registry,
    deps.producer,
    new AuditPublisher(deps.producer, deps.topics),
    new DeadLetterPublisher(
      deps.producer,
      deps.topics,
      new PostgresPayloadStore(deps.ds),
      deps.config.KAFKA_MAX_MESSAGE_BYTES,
    ),
    deps.topics,
    deps.logger,
    deps.parking,
    new PostgresSourceVersions(deps.ds),
  );
  return { processor, registry };
}
