import { createHash } from 'node:crypto';
import { AppLogger, silentLogger } from '@libs/common';
import {
  AuditEvent,
  ContractViolationError,
  decodeEvent,
  KingdeeDocument,
  KingdeeDocumentSchema,
  RawStockoutEvent,
  RawStockoutEventSchema,
  TopicNames,
  HEADER,
} from '@libs/contracts';
import { AuditPublisher } from '@libs/audit';
import {
  ConsumedMessage,
  DeadLetterPublisher,
  deterministicUuid,
  EventProducer,
  EncodedEvent,
  ParkRequest,
} from '@libs/kafka';
import { MappingError, MapResult } from '@libs/mapping';
import { countError, countRecords, isDebugEnabled, observeBatchSize, orderLogger } from '@libs/metrics';
import { ParkedMessage, ParkedMessageInput, ParkedMessageStore, SchemeHolds } from '@libs/parking';
import { SchemeRegistry } from './scheme-registry';
import { OffsetSourceVersions, SourceVersions, versionKey } from './source-version.store';

export class UnknownSchemeError extends Error {
  override readonly name = 'UnknownSchemeError';
}

/** A record's mapping, done before its version is assigned (the version's document is stored with it). */
type Mapped =
  | { kind: 'skipped'; result: Extract<MapResult, { outcome: 'skipped' }> }
  | {
      kind: 'document';
      result: Extract<MapResult, { outcome: 'document' }>;
      idempotencyField: string;
      formId: string;
    }
  | { kind: 'error'; error: unknown };

export interface TransformCounts {
  documents: number;
  skipped: number;
  deadLettered: number;
  parked: number;
}

/** What keeps raw events of a paused scheme waiting (in Postgres) while their partition moves on. */
export interface TransformParking {
  holds: SchemeHolds;
  store: ParkedMessageStore;
  /** How long an event parked behind another of its order waits before a drain retries it. */
  behindRetryMs: number;
}

/**
 * The transformer's work on one batch: raw event → scheme → Kingdee-ready document (keyed by the
 * order number), or a skip (audited with the precondition's reason), or a dead letter (the
 * original bytes, the reason and the source offsets). Everything is acknowledged by Kafka before
 * the batch returns; only then are its offsets committed. A poison message never blocks its
 * partition.
 */
export class TransformProcessor {
  constructor(
    private readonly registry: SchemeRegistry,
    private readonly producer: EventProducer,
    private readonly audit: AuditPublisher,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly topics: TopicNames,
    private readonly logger: AppLogger = silentLogger,
    private readonly parking?: TransformParking,
    private readonly versions: SourceVersions = new OffsetSourceVersions(),
  ) {}

  /**
   * One batch. `fromParking`: the messages come out of parking (their own parked rows are no reason
   * to wait). Returns the counts and the messages that were parked (again).
   */
  async handle(
    messages: ConsumedMessage[],
    fromParking = false,
  ): Promise<TransformCounts & { parkedMessages: Set<ConsumedMessage> }> {
    const outgoing: EncodedEvent[] = [];
    const parked: ParkRequest[] = [];
    const counts: TransformCounts = { documents: 0, skipped: 0, deadLettered: 0, parked: 0 };
    const decoded = new Map<ConsumedMessage, RawStockoutEvent>();
    for (const message of messages) {
      try {
        decoded.set(
          message,
          decodeEvent(
            RawStockoutEventSchema,
            message.value,
            `raw stockout event at ${message.topic}/${message.partition}@${message.offset}`,
          ),
        );
      } catch (error) {
        parked.push({
          message,
          stage: 'transformer',
          error,
          attempts: 1,
          sourceKey: message.key ?? undefined,
        });
        counts.deadLettered += 1;
      }
    }
    // Mapped before versions are assigned so the statement that assigns them also stores each
    // version's document; records of a paused scheme are mapped when they drain (the scheme may change).
    const mapped = new Map<ConsumedMessage, Mapped>();
    for (const [message, raw] of decoded) {
      if (!fromParking && this.parking?.holds.hold(raw.schemeId)?.kind === 'paused') continue;
      mapped.set(message, await this.map(raw).catch((error: unknown) => ({ kind: 'error' as const, error })));
    }
    const versions = await this.versions.assign(
      [...decoded].map(([message, raw]) => {
        const m = mapped.get(message);
        return {
          schemeId: raw.schemeId,
          sourceKey: raw.orderNo,
          fingerprint: raw.fingerprint,
          modified: raw.record.modified,
          offset: message.offset,
          record: raw.record,
          document: m?.kind === 'document' ? m.result.model : undefined,
        };
      }),
    );
    const versionOf = (raw: RawStockoutEvent): string | undefined =>
      versions.get(
        versionKey({ schemeId: raw.schemeId, sourceKey: raw.orderNo, fingerprint: raw.fingerprint }),
      );
    const waiting = await this.park(decoded, fromParking, outgoing, versionOf);
    counts.parked = waiting.size;
    for (const [message, raw] of decoded) {
      if (waiting.has(message)) continue;
      try {
        const result = this.build(raw, mapped.get(message) ?? (await this.map(raw)), versionOf(raw));
        if (result.kind === 'document') {
          const event = {
            topic: this.topics.kingdeeDocument,
            key: raw.orderNo,
            value: result.document,
            schema: KingdeeDocumentSchema,
            eventType: 'kingdee.document',
            correlationId: raw.orderNo,
          };
          // Checked and serialised once, now: a failure (too large, contract) parks this record only.
          outgoing.push({ topic: event.topic, message: this.producer.encode(event) });
          counts.documents += 1;
        } else {
          const audit = this.audit.toOutgoing(result.audit);
          outgoing.push({ topic: audit.topic, message: this.producer.encode(audit) });
          counts.skipped += 1;
        }
      } catch (error) {
        if (!(
          error instanceof MappingError ||
          error instanceof ContractViolationError ||
          error instanceof UnknownSchemeError
        )) {
          // Anything else is still this record's problem (e.g. too large), not the batch's.
          orderLogger(this.logger, raw.orderNo).warn(
            { err: (error as Error).message },
            'transform failed; dead-lettering',
          );
        }
        parked.push({
          message,
          stage: 'transformer',
          error,
          attempts: 1,
          schemeId: raw.schemeId,
          sourceKey: raw.orderNo,
          correlationId: raw.orderNo,
          sourceVersion: versionOf(raw),
        });
        counts.deadLettered += 1;
      }
    }
    await this.producer.publishEncoded(outgoing);
    if (parked.length > 0) await this.deadLetters.park(parked);
    // Counted once durable: a batch that throws is redelivered and counted then.
    observeBatchSize('transformer', messages.length);
    countRecords('transformer', 'in', messages.length);
    countRecords('transformer', 'document', counts.documents);
    countRecords('transformer', 'skipped', counts.skipped);
    countRecords('transformer', 'dead_lettered', counts.deadLettered);
    countRecords('transformer', 'parked', counts.parked);
    for (const p of parked) countError('transformer', p.error);
    if (isDebugEnabled(this.logger))
      for (const e of outgoing)
        orderLogger(this.logger, e.message.headers[HEADER.correlationId]).debug(
          { eventType: e.message.headers[HEADER.eventType] },
          'order transformed',
        );
    return { ...counts, parkedMessages: waiting };
  }

  /** Maps parked raw events of schemes that run again; returns the ones that reached an end. */
  async handleParked(rows: ParkedMessage[]): Promise<ParkedMessage[]> {
    const messages: ConsumedMessage[] = rows.map((r) => ({
      topic: r.origin.topic,
      partition: r.origin.partition,
      offset: r.origin.offset,
      key: r.key,
      value: r.payload,
      headers: {},
      timestamp: r.parkedAt.toISOString(),
    }));
    const { parkedMessages } = await this.handle(messages, true);
    return rows.filter((_, i) => !parkedMessages.has(messages[i]));
  }

  /**
   * Raw events of a paused scheme are parked in Postgres (audited `parked`), and so are later events
   * of an order that already has a parked one (so each order's versions are mapped in order).
   */
  private async park(
    decoded: Map<ConsumedMessage, RawStockoutEvent>,
    fromParking: boolean,
    outgoing: EncodedEvent[],
    versionOf: (raw: RawStockoutEvent) => string | undefined,
  ): Promise<Set<ConsumedMessage>> {
    const waiting = new Set<ConsumedMessage>();
    if (!this.parking) return waiting;
    const { holds, store, behindRetryMs } = this.parking;
    const paused: ParkedMessageInput[] = [];
    const behind: ParkedMessageInput[] = [];
    const bySchemes = new Map<string, Array<[ConsumedMessage, RawStockoutEvent]>>();
    for (const entry of decoded)
      bySchemes.set(entry[1].schemeId, [...(bySchemes.get(entry[1].schemeId) ?? []), entry]);
    for (const [schemeId, entries] of bySchemes) {
      const hold = holds.hold(schemeId);
      const queued =
        hold?.kind === 'paused' || fromParking
          ? new Set<string>()
          : await store.parkedKeys(
              schemeId,
              entries.map(([, raw]) => raw.orderNo),
            );
      for (const [message, raw] of entries) {
        const item = {
          schemeId,
          key: raw.orderNo,
          origin: { topic: message.topic, partition: message.partition, offset: message.offset },
          payload: message.value as Buffer,
        };
        if (hold?.kind === 'paused') {
          paused.push({ ...item, reason: 'paused', detail: hold.reason });
          outgoing.push(this.parkedAudit(raw, hold.reason, versionOf(raw)));
        } else if (queued.has(raw.orderNo))
          behind.push({
            ...item,
            reason: 'behind',
            detail: 'waits for an earlier parked version of this order',
          });
        else continue;
        waiting.add(message);
      }
    }
    await store.park(paused);
    await store.park(behind, behindRetryMs);
    return waiting;
  }

  private parkedAudit(raw: RawStockoutEvent, reason: string, sourceVersion?: string): EncodedEvent {
    const audit = this.audit.toOutgoing({
      eventType: 'sync.audit',
      schemaVersion: 1,
      eventId: deterministicUuid('park', raw.schemeId, raw.orderNo, raw.fingerprint),
      schemeId: raw.schemeId,
      sourceKey: raw.orderNo,
      stage: 'transformer',
      status: 'parked',
      occurredAt: new Date().toISOString(),
      correlationId: raw.orderNo,
      reason: `paused: ${reason}`,
      sourceEventId: raw.eventId,
      sourceFingerprint: raw.fingerprint,
      ...(sourceVersion ? { sourceVersion } : {}),
    });
    return { topic: audit.topic, message: this.producer.encode(audit) };
  }

  /** The scheme's mapping of the record (pure); a failure is returned, thrown where the record is handled. */
  private async map(raw: RawStockoutEvent): Promise<Mapped> {
    const mapping = this.registry.get(raw.schemeId);
    if (!mapping)
      throw new UnknownSchemeError(`no scheme "${raw.schemeId}" is loaded (order ${raw.orderNo})`);
    // `{{$sid}}` / `$sid`: the sid of the shop the record was read from.
    const context = { sid: raw.source.sid };
    const result = mapping.usesFormulas
      ? await mapping.map(raw.record, context)
      : mapping.mapSync(raw.record, context);
    return result.outcome === 'skipped'
      ? { kind: 'skipped', result }
      : {
          kind: 'document',
          result,
          idempotencyField: mapping.scheme.target.idempotencyKey.field,
          formId: mapping.scheme.target.formId,
        };
  }

  private build(
    raw: RawStockoutEvent,
    mapped: Mapped,
    sourceVersion: string | undefined,
  ): { kind: 'document'; document: KingdeeDocument } | { kind: 'skipped'; audit: AuditEvent } {
    if (mapped.kind === 'error') throw mapped.error;
    if (mapped.kind === 'skipped') {
      const result = mapped.result;
      return {
        kind: 'skipped',
        audit: {
          eventType: 'sync.audit',
          schemaVersion: 1,
          eventId: deterministicUuid('skip', raw.schemeId, raw.orderNo, raw.fingerprint),
          schemeId: raw.schemeId,
          sourceKey: raw.orderNo,
          stage: 'transformer',
          status: 'skipped',
          occurredAt: new Date().toISOString(),
          correlationId: raw.orderNo,
          reason: `${result.precondition}: ${result.reason}`,
          billKey: result.billKey,
          sourceEventId: raw.eventId,
          sourceFingerprint: raw.fingerprint,
          ...(sourceVersion ? { sourceVersion } : {}),
        },
      };
    }
    const result = mapped.result;
    const contentHash = createHash('sha256').update(JSON.stringify(result.model)).digest('hex');
    return {
      kind: 'document',
      document: {
        eventType: 'kingdee.document',
        schemaVersion: 1,
        eventId: deterministicUuid('doc', raw.schemeId, raw.orderNo, raw.fingerprint),
        schemeId: raw.schemeId,
        sourceKey: raw.orderNo,
        sid: raw.source.sid,
        billKey: result.billKey,
        idempotencyField: mapped.idempotencyField,
        formId: mapped.formId,
        correlationId: raw.orderNo,
        sourceEventId: raw.eventId,
        sourceFingerprint: raw.fingerprint,
        contentHash,
        ...(sourceVersion ? { sourceVersion } : {}),
        transformedAt: new Date().toISOString(),
        model: result.model,
      },
    };
  }
}
