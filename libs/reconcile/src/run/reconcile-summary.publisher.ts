// STAND-IN: replaced by the engine branch.
import type { TopicNames } from '@libs/contracts';
import type { EventProducer } from '@libs/kafka';
import type { ReconcileSummary } from './reconcile-run.types';

export interface ReconcileSummaryPublisher {
  publish(summary: ReconcileSummary): Promise<void>;
}

export class KafkaReconcileSummaryPublisher implements ReconcileSummaryPublisher {
  constructor(
    private readonly producer: EventProducer,
    private readonly topics: TopicNames,
  ) {}

  async publish(summary: ReconcileSummary): Promise<void> {
    void this.producer;
    void this.topics;
    void summary;
  }
}
