import { ReconcileSummaryEvent, ReconcileSummarySchema, TopicNames } from '@libs/contracts';
import { EventProducer } from './event-producer';

/**
 * Publishes reconciliation summaries on the audit topic (key `reconcile:<schemeId>`, header
 * `event-type: sync.reconciliation`, correlation id = the run id); resolves once Kafka acknowledged.
 * Implements libs/reconcile's `ReconcileSummaryPublisher` port.
 */
export class KafkaReconcileSummaryPublisher {
  constructor(
    private readonly producer: EventProducer,
    private readonly topics: TopicNames,
  ) {}

  async publish(summary: ReconcileSummaryEvent): Promise<void> {
    await this.producer.publish([
      {
        topic: this.topics.audit,
        key: `reconcile:${summary.schemeId}`,
        value: summary,
        schema: ReconcileSummarySchema,
        eventType: 'sync.reconciliation',
        correlationId: summary.runId,
      },
    ]);
  }
}
