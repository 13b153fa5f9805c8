import { DataSource } from 'typeorm';
import { AuditPublisher } from '@libs/audit';
import { AppLogger } from '@libs/common';
import { LoaderConfig } from '@libs/config';
import { TopicNames } from '@libs/contracts';
import { DeadLetterPublisher, EventProducer } from '@libs/kafka';
import { PostgresPayloadStore } from '@libs/database';
import { Scheme } from '@libs/scheme';
import { PostgresClaimStore } from './claim.store';
import { createKingdeePool } from './kingdee-pool.factory';
import { CircuitStateName, LoaderCircuit } from './loader-circuit';
import { LoadProcessor } from './load.processor';

export interface LoadProcessorDeps {
  config: LoaderConfig;
  ds: DataSource;
  producer: EventProducer;
  topics: TopicNames;
  schemes: Map<string, Scheme>;
  owner: string;
  logger: AppLogger;
  onCircuitState?: (state: CircuitStateName, lastError?: string) => void;
}

/** The loader's processor wired from validated config: used by the loader service and by replay. */
export function createLoadProcessor(deps: LoadProcessorDeps): LoadProcessor {
  const { config } = deps;
  const circuit = new LoaderCircuit(
    {
      threshold: 3,
      halfOpenAfterMs: 10_000,
      initialDelayMs: 500,
      maxDelayMs: 30_000,
      onStateChange: deps.onCircuitState,
    },
    deps.logger,
  );
  return new LoadProcessor(
    (id) => deps.schemes.get(id),
    createKingdeePool(config, deps.logger),
    new PostgresClaimStore(deps.ds),
    new AuditPublisher(deps.producer, deps.topics),
    new DeadLetterPublisher(
      deps.producer,
      deps.topics,
      new PostgresPayloadStore(deps.ds),
      config.KAFKA_MAX_MESSAGE_BYTES,
    ),
    circuit,
    {
      owner: deps.owner,
      // Longer than any Kingdee call may take, so a live claim is never taken over.
      leaseMs: config.KINGDEE_TIMEOUT_MS * 2 + 30_000,
      maxBatchSize: config.LOADER_BATCH_SIZE,
    },
    deps.logger,
  );
}
