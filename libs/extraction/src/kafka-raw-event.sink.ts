import { createHash } from 'node:crypto';
import { RawStockoutEvent, RawStockoutEventSchema, TopicNames } from '@libs/contracts';
import { DeadLetterPublisher, EncodedEvent, EventProducer, MessageTooLargeError } from '@libs/kafka';
import { MalformedRecord, RawEventSink, RecordLocation } from './extraction.ports';
import { RecordSizeLimit } from './record-inspector';

/**
 * Raw events to the raw topic, keyed by order number (every version of an order on one partition,
 * in order). A record too large for the topic, or malformed, is parked on the dead-letter topic
 * (oversize bytes in Postgres) under its best identifier with an audit row, never dropped.
 */
export class KafkaRawEventSink implements RawEventSink {
  constructor(
    private readonly producer: EventProducer,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly topics: TopicNames,
  ) {}

  get sizeLimit(): RecordSizeLimit {
    return {
      maxEventBytes: this.producer.maxEventBytes,
      source: `KAFKA_MAX_MESSAGE_BYTES=${this.producer.maxMessageBytes} less ${this.producer.maxMessageBytes - this.producer.maxEventBytes} bytes of headroom`,
    };
  }

  async publish(
    events: RawStockoutEvent[],
    locate: (event: RawStockoutEvent) => RecordLocation | undefined = () => undefined,
  ): Promise<void> {
    const encoded: EncodedEvent[] = [];
    const oversize: Array<{ event: RawStockoutEvent; error: MessageTooLargeError }> = [];
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
        oversize.push({ event: e, error: err });
      }
    }
    await this.producer.publishEncoded(encoded);
    if (oversize.length > 0) {
      await this.deadLetters.park(
        oversize.map(({ event: e, error }) => {
          const at = locate(e);
          const where = `window ${e.sourceWindow.start} – ${e.sourceWindow.end}${at ? `, page ${at.pageNo}, position ${at.position}` : ''}`;
          error.message = `raw event of order ${e.orderNo} is ${error.sizeBytes} bytes, over the ${error.limitBytes}-byte limit (${this.sizeLimit.source}) (${where})`;
          return {
            message: this.origin(e.orderNo, Buffer.from(JSON.stringify(e)), JSON.stringify(e.record)),
            stage: 'extractor' as const,
            error,
            attempts: 1,
            schemeId: e.schemeId,
            sourceKey: e.orderNo,
          };
        }),
      );
    }
  }

  async parkMalformed(items: MalformedRecord[]): Promise<void> {
    await this.deadLetters.park(
      items.map((item) => ({
        // The origin names the identifier and the content (not the window or position): the same bad
        // record read again by the next poll's lookback is the same dead letter, not one per poll; the
        // message names window, page and position.
        message: this.origin(item.sourceKey, Buffer.from(JSON.stringify(item.record) ?? 'null')),
        stage: 'extractor' as const,
        error: item.error,
        attempts: 1,
        schemeId: item.schemeId,
        sourceKey: item.sourceKey,
        correlationId: item.sourceKey,
      })),
    );
  }

  /** Extractor records come from WDT, not a topic: the origin names the method and window instead. */
  private origin(key: string, value: Buffer, content: string | Buffer = value) {
    return {
      topic: 'wdt:wdt.stockout.order.query.return',
      partition: 0,
      offset: `${key}:${createHash('sha256').update(content).digest('hex').slice(0, 16)}`,
      key,
      value,
      headers: {},
      timestamp: String(Date.now()),
    };
  }
}
