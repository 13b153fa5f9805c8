import { RawStockoutEvent, RawStockoutEventSchema, TopicNames } from '@libs/contracts';
import { DeadLetterPublisher, EncodedEvent, EventProducer, MessageTooLargeError } from '@libs/kafka';
import { RawEventSink } from './extraction.ports';

/**
 * Raw events to the raw topic, keyed by order number (every version of an order on one partition,
 * in order). A record too large for the topic, or without an order number, is parked on the
 * dead-letter topic (oversize bytes in Postgres) with an audit row, never dropped.
 */
export class KafkaRawEventSink implements RawEventSink {
  constructor(
    private readonly producer: EventProducer,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly topics: TopicNames,
  ) {}

  async publish(events: RawStockoutEvent[]): Promise<void> {
    const encoded: EncodedEvent[] = [];
    const oversize: RawStockoutEvent[] = [];
    for (const e of events) {
      try {
        // Checked and serialised once: a record too large for the topic is parked, the rest go out.
        const message = this.producer.encode({
          topic: this.topics.rawStockout,
          key: e.orderNo,
          value: e,
          schema: RawStockoutEventSchema,
          eventType: e.eventType,
          correlationId: e.orderNo,
        });
        encoded.push({ topic: this.topics.rawStockout, message });
      } catch (err) {
        if (!(err instanceof MessageTooLargeError)) throw err;
        oversize.push(e);
      }
    }
    await this.producer.publishEncoded(encoded);
    if (oversize.length > 0) {
      await this.deadLetters.park(
        oversize.map((e) => ({
          message: this.origin(
            e.sourceWindow.start,
            e.sourceWindow.end,
            e.orderNo,
            Buffer.from(JSON.stringify(e)),
          ),
          stage: 'extractor' as const,
          error: new MessageTooLargeError(
            this.topics.rawStockout,
            e.orderNo,
            Buffer.byteLength(JSON.stringify(e)),
            0,
          ),
          attempts: 1,
          schemeId: e.schemeId,
          sourceKey: e.orderNo,
        })),
      );
    }
  }

  async parkMalformed(
    items: Array<{
      record: unknown;
      error: Error;
      schemeId: string;
      window: { start: string; end: string };
      index: number;
    }>,
  ): Promise<void> {
    await this.deadLetters.park(
      items.map((item) => ({
        message: this.origin(
          item.window.start,
          item.window.end,
          `#${item.index}`,
          Buffer.from(JSON.stringify(item.record) ?? 'null'),
        ),
        stage: 'extractor' as const,
        error: item.error,
        attempts: 1,
        schemeId: item.schemeId,
      })),
    );
  }

  /** Extractor records come from WDT, not a topic: the origin names the method and window instead. */
  private origin(start: string, end: string, key: string, value: Buffer) {
    return {
      topic: 'wdt:wdt.stockout.order.query.return',
      partition: 0,
      offset: `${start}~${end}:${key}`,
      key,
      value,
      headers: {},
      timestamp: String(Date.now()),
    };
  }
}
