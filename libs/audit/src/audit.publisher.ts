import { AuditEvent, AuditEventSchema, TopicNames } from '@libs/contracts';
import { EventProducer, OutgoingEvent } from '@libs/kafka';

/** Builds audit topic messages; any stage uses it to report how an order ended there. */
export class AuditPublisher {
  constructor(
    private readonly producer: EventProducer,
    private readonly topics: TopicNames,
  ) {}

  toOutgoing(event: AuditEvent): OutgoingEvent<unknown> {
    return {
      topic: this.topics.audit,
      key: event.sourceKey,
      value: event,
      schema: AuditEventSchema as never,
      eventType: 'sync.audit',
      correlationId: event.correlationId,
    };
  }

  async publish(events: AuditEvent[]): Promise<void> {
    await this.producer.publish(events.map((e) => this.toOutgoing(e)));
  }
}
