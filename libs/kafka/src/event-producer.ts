import { CompressionTypes, Kafka, Producer } from 'kafkajs';
import { z } from 'zod';
import { CONTENT_TYPE_JSON, HEADER, validateEvent } from '@libs/contracts';
import { explainKafkaError } from './missing-topic.error';

export interface OutgoingEvent<T = unknown> {
  topic: string;
  key: string;
  value: T;
  schema: z.ZodType<T>;
  correlationId: string;
  schemaVersion?: number;
  eventType: string;
}

export interface EncodedMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

export interface EncodedEvent {
  topic: string;
  message: EncodedMessage;
}

export class MessageTooLargeError extends Error {
  override readonly name = 'MessageTooLargeError';
  constructor(
    readonly topic: string,
    readonly key: string,
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(`message for ${topic} key ${key} is ${sizeBytes} bytes, over the ${limitBytes}-byte limit`);
  }
}

/**
 * Idempotent producer, acks from all in-sync replicas, one request in flight (kafkajs does not
 * enforce the idempotence limit itself). Every event is validated against its contract before it
 * leaves the process; `publish` resolves only once Kafka has acknowledged every record.
 */
export class EventProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(
    kafka: Kafka,
    /** KAFKA_MAX_MESSAGE_BYTES. */
    readonly maxMessageBytes: number,
    transactionalId?: string,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      transactionalId,
    });
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }

  /** Largest serialised event `encode` accepts: the message limit less 1024 bytes for key and headers. */
  get maxEventBytes(): number {
    return this.maxMessageBytes - 1024;
  }

  /** Serialises and validates; throws MessageTooLargeError before anything is sent. */
  encode<T>(event: OutgoingEvent<T>): EncodedMessage {
    const valid = validateEvent(event.schema, event.value, `${event.eventType} for ${event.topic}`);
    const value = Buffer.from(JSON.stringify(valid), 'utf8');
    // Leave room for key, headers and record overhead.
    const limit = this.maxEventBytes;
    if (value.length > limit) throw new MessageTooLargeError(event.topic, event.key, value.length, limit);
    return {
      key: event.key,
      value,
      headers: {
        [HEADER.schemaVersion]: String(event.schemaVersion ?? 1),
        [HEADER.eventType]: event.eventType,
        [HEADER.correlationId]: event.correlationId,
        [HEADER.contentType]: CONTENT_TYPE_JSON,
      },
    };
  }

  async publish(events: OutgoingEvent<unknown>[]): Promise<void> {
    await this.publishEncoded(events.map((event) => ({ topic: event.topic, message: this.encode(event) })));
  }

  /** Sends messages already checked and serialised by `encode` (callers that must check each first). */
  async publishEncoded(items: EncodedEvent[]): Promise<void> {
    if (items.length === 0) return;
    // The broker rejects a request whose record batch for one partition exceeds max.message.bytes,
    // and any number of these messages may hash to one partition: cut the sends by size, so a large
    // window can never wedge a producer (each message alone is already within the limit).
    const budget = Math.floor(this.maxMessageBytes * 0.8);
    let chunk: EncodedEvent[] = [];
    let bytes = 0;
    for (const item of items) {
      const size = item.message.value.length + item.message.key.length + 200;
      if (chunk.length > 0 && bytes + size > budget) {
        await this.sendChunk(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(item);
      bytes += size;
    }
    await this.sendChunk(chunk);
  }

  private async sendChunk(
    chunk: Array<{ topic: string; message: ReturnType<EventProducer['encode']> }>,
  ): Promise<void> {
    if (chunk.length === 0) return;
    const byTopic = new Map<string, EncodedMessage[]>();
    for (const { topic, message } of chunk) {
      const list = byTopic.get(topic) ?? [];
      list.push(message);
      byTopic.set(topic, list);
    }
    try {
      await this.producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic.entries()].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (err) {
      throw explainKafkaError(err, [...byTopic.keys()]);
    }
  }

  /** Sends pre-encoded bytes (re-push of a dead-lettered original). */
  async publishRaw(
    topic: string,
    key: string | null,
    value: Buffer,
    headers: Record<string, string>,
  ): Promise<void> {
    try {
      await this.producer.send({ topic, acks: -1, messages: [{ key, value, headers }] });
    } catch (err) {
      throw explainKafkaError(err, [topic]);
    }
  }
}
