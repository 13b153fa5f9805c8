import {
  AuditEvent,
  AuditEventSchema,
  DeadLetterEnvelope,
  DeadLetterEnvelopeSchema,
  decodeEvent,
  HEADER,
  TopicNames,
} from '@libs/contracts';
import { ConsumedMessage, DeadLetterPublisher, deterministicUuid } from '@libs/kafka';
import { AppLogger } from '@libs/common';
import { AuditRepository } from './audit.repository';

/**
 * Other events the audit topic carries for other teams (docs/consumers.md): acknowledged, not
 * stored, never dead-lettered. Told apart by the `event-type` header.
 */
export const AUDIT_TOPIC_PASSTHROUGH_EVENTS: ReadonlySet<string> = new Set(['sync.reconciliation']);

/**
 * The audit writer's logic: persists audit events (latest status + history) and dead-letter
 * envelopes. A malformed audit event is dead-lettered; a malformed dead-letter envelope is stored
 * as a dead letter of its own (re-publishing it to the topic it came from would loop). Reconciliation
 * summaries on the audit topic are skipped (acknowledged with the batch).
 */
export class AuditIngestor {
  constructor(
    private readonly repo: AuditRepository,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly topics: TopicNames,
    private readonly logger: AppLogger,
    /** Told about audit events recorded for the first time (alerts). */
    private readonly onRecorded?: (events: AuditEvent[]) => void,
  ) {}

  async handle(messages: ConsumedMessage[]): Promise<void> {
    const audits: AuditEvent[] = [];
    const envelopes: DeadLetterEnvelope[] = [];
    const poison: Array<{ message: ConsumedMessage; error: Error }> = [];
    for (const m of messages) {
      const isDlq = m.topic === this.topics.deadLetter;
      if (!isDlq && AUDIT_TOPIC_PASSTHROUGH_EVENTS.has(m.headers[HEADER.eventType] ?? '')) continue;
      try {
        if (isDlq)
          envelopes.push(
            decodeEvent(
              DeadLetterEnvelopeSchema,
              m.value,
              `dead-letter envelope at ${m.topic}/${m.partition}@${m.offset}`,
            ),
          );
        else
          audits.push(
            decodeEvent(AuditEventSchema, m.value, `audit event at ${m.topic}/${m.partition}@${m.offset}`),
          );
      } catch (error) {
        poison.push({ message: m, error: error as Error });
      }
    }
    for (const { message, error } of poison) {
      this.logger.warn(
        { topic: message.topic, partition: message.partition, offset: message.offset, err: error.message },
        'malformed message parked',
      );
      if (message.topic === this.topics.deadLetter) envelopes.push(this.selfParked(message, error));
    }
    const auditPoison = poison.filter((p) => p.message.topic !== this.topics.deadLetter);
    if (auditPoison.length > 0) {
      await this.deadLetters.park(
        auditPoison.map((p) => ({
          message: p.message,
          stage: 'audit-writer' as const,
          error: p.error,
          attempts: 1,
        })),
      );
    }
    await this.repo.recordDeadLetters(envelopes);
    const fresh = await this.repo.recordAuditEvents(audits);
    if (fresh.length > 0) this.onRecorded?.(fresh);
  }

  private selfParked(message: ConsumedMessage, error: Error): DeadLetterEnvelope {
    const bytes = message.value ?? Buffer.alloc(0);
    return {
      eventType: 'sync.dead-letter',
      schemaVersion: 1,
      eventId: deterministicUuid('dlq', 'audit-writer', message.topic, message.partition, message.offset),
      stage: 'audit-writer',
      sourceKey: message.key ?? undefined,
      errorClass: error.name,
      errorMessage: error.message,
      attempts: 1,
      occurredAt: new Date().toISOString(),
      origin: {
        topic: message.topic,
        partition: message.partition,
        offset: message.offset,
        key: message.key,
      },
      payload: { storage: 'inline', encoding: 'base64', data: bytes.toString('base64') },
    };
  }
}
