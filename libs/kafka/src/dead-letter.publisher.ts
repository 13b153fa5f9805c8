import { createHash } from 'node:crypto';
import { TextDecoder } from 'node:util';
import {
  AuditEvent,
  AuditEventSchema,
  DeadLetterEnvelope,
  DeadLetterEnvelopeSchema,
  DeadLetterPayload,
  Stage,
  TopicNames,
} from '@libs/contracts';
import { ConsumedMessage } from './batch-consumer';
import { deterministicUuid } from './deterministic-id';
import { EventProducer } from './event-producer';

/** Where payloads too large for the dead-letter topic are parked (Postgres in production). */
export interface OversizePayloadStore {
  save(id: string, data: Buffer, sha256: string): Promise<void>;
}

export interface ParkRequest {
  message: ConsumedMessage;
  stage: Stage;
  error: unknown;
  attempts: number;
  schemeId?: string;
  sourceKey?: string;
  correlationId?: string;
  /** The source version of the message, when it could be decoded (orders the audit trail). */
  sourceVersion?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function errorClassOf(error: unknown): string {
  if (error instanceof Error) return (error as Error & { code?: string }).code ?? error.name ?? 'Error';
  return 'UnknownError';
}

function errorMessageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 4000 ? `${text.slice(0, 4000)}…` : text || 'unknown error';
}

/**
 * Parks a message a stage could not process: the dead-letter envelope (original bytes, stage, error,
 * attempts, origin topic/partition/offset) goes to the dead-letter topic, and an audit event with
 * status dead_lettered goes to the audit topic, so the order shows up in the audit trail. Ids are
 * derived from the origin, so parking the same message twice (after a redelivery) is absorbed.
 */
export class DeadLetterPublisher {
  constructor(
    private readonly producer: EventProducer,
    private readonly topics: TopicNames,
    private readonly store: OversizePayloadStore,
    private readonly maxMessageBytes: number,
  ) {}

  async park(requests: ParkRequest[]): Promise<DeadLetterEnvelope[]> {
    const envelopes: DeadLetterEnvelope[] = [];
    const events = [];
    for (const req of requests) {
      const { message } = req;
      const id = deterministicUuid('dlq', req.stage, message.topic, message.partition, message.offset);
      const payload = await this.payloadFor(id, message.value ?? Buffer.alloc(0));
      const sourceKey =
        req.sourceKey || message.key || `${message.topic}/${message.partition}/${message.offset}`;
      const envelope: DeadLetterEnvelope = {
        eventType: 'sync.dead-letter',
        schemaVersion: 1,
        eventId: id,
        stage: req.stage,
        schemeId: req.schemeId,
        sourceKey,
        errorClass: errorClassOf(req.error),
        errorMessage: errorMessageOf(req.error),
        attempts: Math.max(1, req.attempts),
        occurredAt: new Date().toISOString(),
        ...(req.sourceVersion ? { sourceVersion: req.sourceVersion } : {}),
        origin: {
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
          key: message.key,
        },
        payload,
      };
      const audit: AuditEvent = {
        eventType: 'sync.audit',
        schemaVersion: 1,
        eventId: deterministicUuid('audit', id),
        schemeId: req.schemeId || 'unknown',
        sourceKey,
        stage: req.stage,
        status: 'dead_lettered',
        occurredAt: envelope.occurredAt,
        correlationId: req.correlationId || sourceKey,
        errorClass: envelope.errorClass,
        errorMessage: envelope.errorMessage,
        attempts: envelope.attempts,
        deadLetterId: id,
        ...(req.sourceVersion ? { sourceVersion: req.sourceVersion } : {}),
      };
      envelopes.push(envelope);
      const correlationId = audit.correlationId;
      events.push(
        {
          topic: this.topics.deadLetter,
          key: sourceKey,
          value: envelope,
          schema: DeadLetterEnvelopeSchema,
          eventType: 'sync.dead-letter',
          correlationId,
        },
        {
          topic: this.topics.audit,
          key: sourceKey,
          value: audit,
          schema: AuditEventSchema,
          eventType: 'sync.audit',
          correlationId,
        },
      );
    }
    await this.producer.publish(events);
    return envelopes;
  }

  private async payloadFor(id: string, bytes: Buffer): Promise<DeadLetterPayload> {
    let inline: DeadLetterPayload;
    try {
      inline = { storage: 'inline', encoding: 'utf8', data: utf8.decode(bytes) };
    } catch {
      inline = { storage: 'inline', encoding: 'base64', data: bytes.toString('base64') };
    }
    // JSON escaping can grow the text; half the limit leaves room for the envelope around it.
    if (Buffer.byteLength(JSON.stringify(inline.data)) <= this.maxMessageBytes / 2) return inline;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await this.store.save(id, bytes, sha256);
    return { storage: 'postgres', ref: id, sizeBytes: bytes.length, sha256 };
  }
}
