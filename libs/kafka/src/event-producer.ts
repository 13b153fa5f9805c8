import {
  CompressionTypes,
  ICustomPartitioner,
  Kafka,
  Message,
  Partitioners,
  Producer,
  RecordMetadata,
} from 'kafkajs';
import { z } from 'zod';
import { CONTENT_TYPE_JSON, HEADER, validateEvent } from '@libs/contracts';
import { brokersOf, findInErrorChain } from './kafka.factory';
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

export class ProducerSendTimeoutError extends Error {
  override readonly name = 'ProducerSendTimeoutError';
  constructor(
    readonly topics: string[],
    readonly brokers: string[],
    readonly timeoutMs: number,
  ) {
    super(
      `Kafka did not acknowledge a send to ${topics.join(', ')} within ${timeoutMs} ms (brokers ${brokers.join(',') || 'unknown'}): the producer is replaced and the send may be retried`,
    );
  }
}

/**
 * The partition kafkajs chose for each message object of the current attempt (its default, Java-
 * compatible partitioner, unchanged): lets a send check that every partition it wrote was acknowledged.
 */
const CHOSEN_PARTITION = new WeakMap<Message, number>();
const recordingPartitioner: ICustomPartitioner = () => {
  const inner = Partitioners.DefaultPartitioner();
  return (args) => {
    const partition = inner(args);
    CHOSEN_PARTITION.set(args.message, partition);
    return partition;
  };
};

export class ProducerAckMissingError extends Error {
  override readonly name = 'ProducerAckMissingError';
  constructor(readonly partitions: string[]) {
    super(
      `Kafka acknowledged the send without answering for ${partitions.join(', ')} (a leader moved during the send); those messages were sent again until the attempts ran out`,
    );
  }
}

export interface EventProducerOptions {
  /** A send not acknowledged by then fails (KAFKA_SEND_TIMEOUT_MS); the producer is replaced. */
  sendTimeoutMs?: number;
}

/**
 * Idempotent producer, acks from all in-sync replicas, one request in flight (kafkajs does not
 * enforce the idempotence limit itself). Every event is validated against its contract before it
 * leaves the process; `publish` resolves only once Kafka has acknowledged every record.
 *
 * An idempotent kafkajs producer retries forever while a partition has no leader, and after an
 * OUT_OF_ORDER_SEQUENCE_NUMBER its sequence state never recovers: so every send has a deadline, and
 * after a timeout or that error the producer is replaced by a new one (new producer id, fresh
 * sequences). The caller sees the error and retries; consumers deduplicate by event id.
 */
export class EventProducer {
  private producer: Producer;
  private connected = false;
  private readonly sendTimeoutMs: number;
  private readonly brokers: string[];
  /** How often the producer was replaced (tests, metrics). */
  recreations = 0;
  /** How often partitions a send left unanswered were sent again (tests, metrics). */
  unacknowledgedResends = 0;

  constructor(
    private readonly kafka: Kafka,
    /** KAFKA_MAX_MESSAGE_BYTES. */
    readonly maxMessageBytes: number,
    private readonly transactionalId?: string,
    options: EventProducerOptions = {},
  ) {
    this.sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
    this.brokers = brokersOf(kafka);
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      transactionalId: this.transactionalId,
      createPartitioner: recordingPartitioner,
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

  /** Runs one send against the current producer under the deadline; replaces it when it is stuck. */
  private async withDeadline<R>(topics: string[], send: (producer: Producer) => Promise<R>): Promise<R> {
    const producer = this.producer;
    let timer: NodeJS.Timeout | undefined;
    const attempt = send(producer);
    // The abandoned attempt may still settle after the deadline: never let that be unhandled.
    attempt.catch(() => undefined);
    try {
      return await Promise.race([
        attempt,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new ProducerSendTimeoutError(topics, this.brokers, this.sendTimeoutMs)),
            this.sendTimeoutMs,
          );
        }),
      ]);
    } catch (err) {
      if (err instanceof ProducerSendTimeoutError) {
        await this.replace(producer);
        throw err;
      }
      if (findInErrorChain(err, (e) => e.type === 'OUT_OF_ORDER_SEQUENCE_NUMBER'))
        await this.replace(producer);
      throw explainKafkaError(err, topics);
    } finally {
      clearTimeout(timer);
    }
  }

  private async replace(stale: Producer): Promise<void> {
    if (stale !== this.producer) return;
    this.recreations++;
    this.producer = this.newProducer();
    void stale.disconnect().catch(() => undefined);
    if (this.connected) await this.producer.connect().catch(() => undefined);
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
    // kafkajs 2.2.4 keeps a broker's earlier answer across the retries of one send: when a partition's
    // leader moves to a broker that already answered, its messages are never sent yet the send
    // resolves (tulios/kafkajs#1303, #1798). So every partition written must appear, error-free, in
    // the result; the messages of one that does not are sent again (the idempotent producer rolled
    // their sequence back; a rare duplicate is deduplicated downstream by event id).
    let pending = [...byTopic.entries()].map(([topic, messages]) => ({
      topic,
      messages: messages as Message[],
    }));
    for (let attempt = 1; ; attempt++) {
      const result: RecordMetadata[] = await this.withDeadline(
        pending.map((p) => p.topic),
        (producer) =>
          producer.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages: pending }),
      );
      const acked = new Set(
        result.filter((r) => r.errorCode === 0).map((r) => `${r.topicName}[${r.partition}]`),
      );
      const missing = new Set<string>();
      const again = pending
        .map(({ topic, messages }) => ({
          topic,
          messages: messages.filter((m) => {
            const where = `${topic}[${CHOSEN_PARTITION.get(m) ?? '?'}]`;
            if (acked.has(where)) return false;
            missing.add(where);
            return true;
          }),
        }))
        .filter((p) => p.messages.length > 0);
      if (again.length === 0) return;
      this.unacknowledgedResends++;
      if (attempt >= 5) throw new ProducerAckMissingError([...missing]);
      pending = again;
    }
  }

  /** Sends pre-encoded bytes (re-push of a dead-lettered original). */
  async publishRaw(
    topic: string,
    key: string | null,
    value: Buffer,
    headers: Record<string, string>,
  ): Promise<void> {
    await this.withDeadline([topic], (producer) =>
      producer.send({ topic, acks: -1, messages: [{ key, value, headers }] }),
    );
  }
}
