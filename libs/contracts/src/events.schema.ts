import { z } from 'zod';

/**
 * Versioned event schemas shared by every producer and consumer. A consumer that receives a
 * message failing its schema dead-letters it with the validation message; it never crashes.
 * Versioning promise: fields are only added within a major version; removing or retyping a field
 * means a new `schemaVersion` and a new topic suffix (`.v2`).
 */

const isoTime = z.iso.datetime({ offset: true });
const nonEmpty = z.string().min(1);

export const SOURCE_SYSTEM = z.enum(['wdt']);

/** Extractor output: the WDT record exactly as received, plus an envelope. */
export const RawStockoutEventSchema = z.strictObject({
  eventType: z.literal('wdt.stockout-return.raw'),
  schemaVersion: z.literal(1),
  eventId: z.uuid(),
  schemeId: nonEmpty,
  source: z.strictObject({
    system: SOURCE_SYSTEM,
    sid: nonEmpty,
    gateway: z.enum(['native', 'qimen']),
    method: nonEmpty,
    /** The scheme's WDT connection (several shops per deployment); `sid` + `orderNo` is an order's global identity. */
    connection: nonEmpty.optional(),
  }),
  /** WDT `order_no`, also the Kafka message key (unique within one `source.sid`). */
  orderNo: nonEmpty,
  extractedAt: isoTime,
  sourceWindow: z.strictObject({
    axis: z.enum(['consign_time', 'modified']),
    /** Shanghai wall-clock strings exactly as sent to WDT. */
    start: nonEmpty,
    end: nonEmpty,
    pageNo: z.number().int().min(0).optional(),
  }),
  /** Content fingerprint (md5_str/modified + hash) the extractor uses to skip unchanged versions. */
  fingerprint: nonEmpty,
  /** Why it was emitted: incremental poll, reconciliation sweep, backfill, resync or an operator's re-push. */
  trigger: z.enum(['poll', 'sweep', 'backfill', 'resync', 'repush', 'skeleton']).default('poll'),
  record: z.record(z.string(), z.unknown()),
});
export type RawStockoutEvent = z.infer<typeof RawStockoutEventSchema>;

/**
 * Which version of a source order an event is about, comparable as text: WDT's `modified`
 * (`yyyy-MM-dd HH:mm:ss`), then the raw-topic offset (zero-padded) where that content was first
 * emitted. The same content (fingerprint) is the same version however often it is re-emitted; an
 * event about an older version never replaces the outcome of a newer one (docs/consumers.md).
 */
export const SourceVersionSchema = z
  .string()
  .regex(/^[0-9: -]*\|\d{19}$/, 'must be "<modified>|<offset:19>"');

/** Transformer output: one Kingdee model ready for BatchSave, plus where it came from. */
export const KingdeeDocumentSchema = z.strictObject({
  eventType: z.literal('kingdee.document'),
  schemaVersion: z.literal(1),
  eventId: z.uuid(),
  schemeId: nonEmpty,
  /** The WDT order number: the source key every stage and the audit trail use. */
  sourceKey: nonEmpty,
  /** The shop (WDT sid) the order was read from: `sid` + `sourceKey` identifies an order across shops. */
  sid: nonEmpty.optional(),
  /** Value written into the scheme's idempotency key field (FBillNo by default). */
  billKey: nonEmpty,
  idempotencyField: nonEmpty,
  formId: nonEmpty,
  correlationId: nonEmpty,
  sourceEventId: z.uuid(),
  sourceFingerprint: nonEmpty,
  /** Hash of `model`, so the loader can tell a changed version of an already-loaded order. */
  contentHash: nonEmpty,
  /** The source version this document was mapped from (see SourceVersionSchema). */
  sourceVersion: SourceVersionSchema.optional(),
  transformedAt: isoTime,
  model: z.record(z.string(), z.unknown()),
});
export type KingdeeDocument = z.infer<typeof KingdeeDocumentSchema>;

/**
 * One status enum for every stage, so every source order ends with an audit row. Final: `loaded`,
 * `skipped`, `failed`, `dead_lettered`, `changed_after_load`, `duplicate`, `conflict_in_erp`,
 * `duplicate_in_erp`, `closed` (an operator closed the order's latest version, with a reason; a
 * newer source version reopens it). Not final (the order is on its way): `parked` (its scheme is stopped: paused,
 * Kingdee connection failing, or stopped by the loader), `settling` (a write's outcome is unknown;
 * the bill is being looked up), `saved_not_audited` (saved in Kingdee, Submit/Audit pending),
 * `waiting_base_data` (Kingdee refused it only for base data — a supplier, material, stock or
 * organisation code that does not exist, is not allocated, forbidden or not audited, named in
 * `errorMessage`; it loads by itself once the code is usable, or ends `failed` after the longest wait). New
 * values may appear within a major version: consumers treat unknown ones as not final.
 */
export const AUDIT_STATUSES = [
  'loaded',
  'skipped',
  'failed',
  'dead_lettered',
  'changed_after_load',
  'duplicate',
  'parked',
  'settling',
  'saved_not_audited',
  'waiting_base_data',
  'conflict_in_erp',
  'duplicate_in_erp',
  'closed',
] as const;

/** Statuses after which the order is still on its way (see AUDIT_STATUSES). */
export const TRANSITIONAL_AUDIT_STATUSES = [
  'parked',
  'settling',
  'saved_not_audited',
  'waiting_base_data',
] as const;
export const AuditStatusSchema = z.enum(AUDIT_STATUSES);
export type AuditStatus = z.infer<typeof AuditStatusSchema>;

export const STAGES = ['extractor', 'transformer', 'loader', 'audit-writer', 'operator'] as const;
export const StageSchema = z.enum(STAGES);
export type Stage = z.infer<typeof StageSchema>;

export const AuditEventSchema = z.strictObject({
  eventType: z.literal('sync.audit'),
  schemaVersion: z.literal(1),
  eventId: z.uuid(),
  schemeId: nonEmpty,
  sourceKey: nonEmpty,
  stage: StageSchema,
  status: AuditStatusSchema,
  occurredAt: isoTime,
  correlationId: nonEmpty,
  /** Skip reason, or a human summary of the outcome. */
  reason: z.string().optional(),
  errorClass: z.string().optional(),
  /** For failures: Kingdee's own message (and field); never secrets or personal data. */
  errorMessage: z.string().optional(),
  errorField: z.string().optional(),
  kingdeeId: z.string().optional(),
  kingdeeNumber: z.string().optional(),
  billKey: z.string().optional(),
  attempts: z.number().int().min(0).optional(),
  latencyMs: z.number().min(0).optional(),
  sourceEventId: z.string().optional(),
  sourceFingerprint: z.string().optional(),
  contentHash: z.string().optional(),
  /** The source version the event is about; absent when unknown (e.g. a record that could not be read). */
  sourceVersion: SourceVersionSchema.optional(),
  /**
   * One call to Kingdee (BatchSave, Submit, Audit, a look-up): its request body and Kingdee's reply are
   * in Postgres (audit_attempts), never on a topic; the operator API shows them with the event.
   */
  attemptId: z.uuid().optional(),
  /** Operator events: who acted (the token's name). */
  actor: z.string().optional(),
  /** Set when status is dead_lettered: the dead-letter event id a person can re-push. */
  deadLetterId: z.uuid().optional(),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;

/** Where a dead-lettered message came from. */
export const MessageOriginSchema = z.strictObject({
  topic: nonEmpty,
  partition: z.number().int().min(0),
  offset: nonEmpty,
  key: z.string().nullable(),
});
export type MessageOrigin = z.infer<typeof MessageOriginSchema>;

export const DeadLetterPayloadSchema = z.discriminatedUnion('storage', [
  z.strictObject({
    storage: z.literal('inline'),
    /** utf8 when the bytes were valid UTF-8, else base64. */
    encoding: z.enum(['utf8', 'base64']),
    data: z.string(),
  }),
  z.strictObject({
    /** Too large for the topic: the bytes live in Postgres table dead_letter_payloads. */
    storage: z.literal('postgres'),
    ref: z.uuid(),
    sizeBytes: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
]);
export type DeadLetterPayload = z.infer<typeof DeadLetterPayloadSchema>;

export const DeadLetterEnvelopeSchema = z.strictObject({
  eventType: z.literal('sync.dead-letter'),
  schemaVersion: z.literal(1),
  eventId: z.uuid(),
  stage: StageSchema,
  schemeId: z.string().optional(),
  sourceKey: z.string().optional(),
  errorClass: nonEmpty,
  errorMessage: nonEmpty,
  attempts: z.number().int().min(1),
  occurredAt: isoTime,
  /** The source version of the parked message when it could be read (see SourceVersionSchema). */
  sourceVersion: SourceVersionSchema.optional(),
  origin: MessageOriginSchema,
  payload: DeadLetterPayloadSchema,
});
export type DeadLetterEnvelope = z.infer<typeof DeadLetterEnvelopeSchema>;

const FINDING_COUNT = z.number().int().min(0);

/**
 * The summary of a finished reconciliation run (apps/reconciler), on the audit topic with key
 * `reconcile:<schemeId>` and header `event-type: sync.reconciliation`. Counts per finding class
 * (`matched` included); the findings themselves stay in Postgres (operator API, export). Same shape
 * as `ReconcileSummary` of libs/reconcile.
 */
export const ReconcileSummarySchema = z.strictObject({
  eventId: z.uuid(),
  runId: z.uuid(),
  schemeId: nonEmpty,
  /** The period by consign time, Shanghai wall clock `yyyy-MM-dd HH:mm:ss`, both ends inclusive. */
  periodFrom: nonEmpty,
  periodTo: nonEmpty,
  trigger: z.enum(['schedule', 'api', 'cli']),
  state: z.enum(['done', 'failed']),
  /** Null when the run failed before it compared. */
  counts: z
    .strictObject({
      matched: FINDING_COUNT,
      missing_in_erp: FINDING_COUNT,
      duplicated_in_erp: FINDING_COUNT,
      extra_in_erp: FINDING_COUNT,
      differs: FINDING_COUNT,
      trail_disagrees: FINDING_COUNT,
    })
    .nullable(),
  /** Why a failed run failed (never secrets or personal data). */
  error: z.string().nullable(),
  startedAt: isoTime,
  finishedAt: isoTime,
  occurredAt: isoTime,
});
export type ReconcileSummaryEvent = z.infer<typeof ReconcileSummarySchema>;

/** Schemas by event type, for generic decoding and the AsyncAPI drift test. */
export const EVENT_SCHEMAS = {
  'wdt.stockout-return.raw': RawStockoutEventSchema,
  'kingdee.document': KingdeeDocumentSchema,
  'sync.audit': AuditEventSchema,
  'sync.dead-letter': DeadLetterEnvelopeSchema,
  'sync.reconciliation': ReconcileSummarySchema,
} as const;
export type EventType = keyof typeof EVENT_SCHEMAS;

/** The main event each topic carries. */
export const TOPIC_EVENT: Record<'rawStockout' | 'kingdeeDocument' | 'audit' | 'deadLetter', EventType> = {
  rawStockout: 'wdt.stockout-return.raw',
  kingdeeDocument: 'kingdee.document',
  audit: 'sync.audit',
  deadLetter: 'sync.dead-letter',
};

/**
 * Every event a topic carries, the main one first; consumers tell them apart by the `event-type`
 * header (the audit topic also carries reconciliation summaries).
 */
export const TOPIC_EVENTS: Record<keyof typeof TOPIC_EVENT, readonly EventType[]> = {
  rawStockout: ['wdt.stockout-return.raw'],
  kingdeeDocument: ['kingdee.document'],
  audit: ['sync.audit', 'sync.reconciliation'],
  deadLetter: ['sync.dead-letter'],
};
