import { z } from 'zod';
import { parseTimeInput } from '@libs/common';
import { AUDIT_STATUSES, STAGES } from '@libs/contracts';

/**
 * Request and response shapes of the operator API. Requests are validated with these schemas
 * (400 naming the field); the OpenAPI document is generated from them, so the two cannot drift.
 */

/**
 * A time as the CLIs take it: `yyyy-MM-dd HH:mm:ss` or ISO 8601; without an offset it is Shanghai
 * wall-clock (+08:00), whatever the server's zone. Parsed once, here, to an ISO UTC string.
 */
export const timeInput = z.string().transform((text, ctx) => {
  const ms = parseTimeInput(text);
  if (ms !== undefined) return new Date(ms).toISOString();
  ctx.addIssue({
    code: 'custom',
    message: `not a time: "yyyy-MM-dd HH:mm:ss" (Shanghai) or ISO 8601, e.g. 2026-11-28 08:00:00 or 2026-11-28T08:00:00+08:00`,
  });
  return z.NEVER;
});
const shanghaiNote = '`yyyy-MM-dd HH:mm:ss` or ISO 8601; without an offset: Shanghai time (+08:00).';
const nonEmpty = z.string().min(1);
export const limit = z.coerce.number().int().min(1).max(200).default(50).describe('Page size, at most 200.');
export const offset = z.coerce.number().int().min(0).default(0).describe('Items to skip.');
const reveal = z
  .enum(['pii'])
  .optional()
  .describe('`pii` shows receiver name/phones/address unmasked; recorded as an operator action.');
export const schemeIdParam = z.string().min(1).max(100).describe('Scheme id.');

export function timeRange<T extends z.ZodRawShape>(shape: T) {
  return z
    .strictObject({
      ...shape,
      from: timeInput.optional().describe(`Inclusive lower bound: ${shanghaiNote}`),
      to: timeInput.optional().describe(`Exclusive upper bound: ${shanghaiNote}`),
    })
    .refine(
      (value) => {
        const q = value as { from?: string; to?: string };
        return !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to);
      },
      {
        path: ['to'],
        message: 'must be after from',
      },
    );
}

export const AuditStatusParam = z.enum(AUDIT_STATUSES);
export const StageParam = z.enum(STAGES);
export const DEAD_LETTER_STATES = ['parked', 'repushed', 'resolved', 'closed'] as const;
export const RESYNC_STATES = ['pending', 'done', 'not_found', 'failed'] as const;

// ---- path parameters ----------------------------------------------------------------------
export const OrderNoParams = z.strictObject({
  orderNo: z.string().min(1).max(200).describe('WDT order_no.'),
});
export const IdParams = z.strictObject({ id: z.uuid().describe('Id (uuid).') });
export const SchemeIdParams = z.strictObject({ id: schemeIdParam });

// ---- queries --------------------------------------------------------------------------------
export const AuditOrderQuery = z.strictObject({
  schemeId: schemeIdParam.optional(),
  limit,
  offset,
  reveal,
});
export const AuditOrdersQuery = timeRange({
  status: AuditStatusParam.optional(),
  schemeId: schemeIdParam.optional(),
  stage: StageParam.optional(),
  limit,
  offset,
});
export const AuditStatsQuery = timeRange({ schemeId: schemeIdParam.optional() });
export const DeadLettersQuery = timeRange({
  state: z.enum(DEAD_LETTER_STATES).optional(),
  stage: StageParam.optional(),
  schemeId: schemeIdParam.optional(),
  sourceKey: nonEmpty.max(200).optional().describe('WDT order_no (or original message key).'),
  limit,
  offset,
});
export const RevealQuery = z.strictObject({ reveal });
export const PageQuery = z.strictObject({ limit, offset });
export const ActionsQuery = timeRange({
  tokenName: nonEmpty.max(100).optional(),
  action: nonEmpty.max(100).optional(),
  limit,
  offset,
});
export const ResyncListQuery = z.strictObject({
  state: z.enum(RESYNC_STATES).optional(),
  schemeId: schemeIdParam.optional(),
  orderNo: nonEmpty.max(200).optional(),
  limit,
  offset,
});

// ---- bodies ---------------------------------------------------------------------------------
const orderNos = z.array(z.string().min(1).max(200)).min(1).max(500);

export const PauseBody = z.strictObject({
  reason: z.string().max(500).optional().describe('Free text, recorded with the action.'),
});

export const RepushBody = z
  .strictObject({
    deadLetterIds: z.array(z.uuid()).min(1).max(500).optional(),
    orderNos: orderNos.optional(),
    schemeId: schemeIdParam.optional().describe('Limits orderNos to one scheme.'),
    all: z
      .strictObject({
        status: z.enum(['failed', 'dead_lettered']),
        schemeId: schemeIdParam.optional(),
        limit: z.number().int().min(1).max(1000).default(500).describe('At most this many orders per call.'),
      })
      .optional(),
    force: z
      .boolean()
      .default(false)
      .describe('Re-push dead letters even when already re-pushed or resolved.'),
    payload: z
      .boolean()
      .default(false)
      .describe(
        'Re-send the parked bytes of dead letters as they are. By default the order is read again from WDT ' +
          '(its current version) and re-emitted past the fingerprint filter.',
      ),
    dryRun: z
      .boolean()
      .default(false)
      .describe('Only count: how many orders and WDT calls the re-push would take; changes nothing.'),
  })
  .refine((b) => b.deadLetterIds || b.orderNos || b.all, {
    path: ['deadLetterIds'],
    message: 'one of deadLetterIds, orderNos or all is required',
  });
export type RepushRequest = z.output<typeof RepushBody>;

export const ResyncBody = z.strictObject({ schemeId: schemeIdParam, orderNos });

const actionReason = z
  .string()
  .trim()
  .min(3)
  .max(500)
  .describe('Why: kept with the action and shown in the trail.');
export const CloseOrderBody = z.strictObject({ schemeId: schemeIdParam, reason: actionReason });
export const CloseDeadLetterBody = z.strictObject({ reason: actionReason });
export const LinkBillBody = z.strictObject({
  schemeId: schemeIdParam,
  number: z.string().trim().min(1).max(100).describe("The bill's number (FBillNo) in Kingdee."),
  kingdeeId: z
    .string()
    .regex(/^\d{1,20}$/)
    .optional()
    .describe("The bill's FID, if known."),
  reason: actionReason,
});

// ---- responses (documentation, and checked by the integration tests) -------------------------
export const time = z.string().describe('ISO 8601 in Shanghai time, e.g. 2026-12-04T19:20:00.000+08:00');
const nullableText = z.string().nullable();

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    limit: z.number().int(),
    offset: z.number().int(),
    nextOffset: z.number().int().nullable().describe('Offset of the next page; null on the last page.'),
  });
}

export const AuditOrderView = z.object({
  schemeId: z.string(),
  sourceKey: z.string(),
  bill: z
    .object({
      state: z.enum(['none', 'saved', 'audited']),
      kingdeeId: nullableText,
      number: nullableText,
      billKey: nullableText,
      at: time.nullable(),
    })
    .describe('What Kingdee holds: set by what Kingdee said, cleared only by an operator action.'),
  latest: z
    .object({
      status: z.string(),
      stage: z.string(),
      sourceVersion: nullableText,
      reason: nullableText,
      errorClass: nullableText,
      errorMessage: nullableText,
      errorField: nullableText,
      closedBy: nullableText,
      closedReason: nullableText,
      occurredAt: time,
    })
    .describe('The outcome of the newest source version (an older version never replaces it).'),
  status: z.string(),
  stage: z.string(),
  reason: nullableText,
  errorClass: nullableText,
  errorMessage: nullableText,
  errorField: nullableText,
  kingdeeId: nullableText,
  kingdeeNumber: nullableText,
  billKey: nullableText,
  attempts: z.number().int().nullable(),
  latencyMs: z.number().nullable(),
  deadLetterId: nullableText,
  correlationId: z.string(),
  lastEventId: z.string(),
  lastOccurredAt: time,
  firstSeenAt: time,
  updatedAt: time,
});

export const AuditHistoryView = z.object({
  eventId: z.string(),
  schemeId: z.string(),
  sourceKey: z.string(),
  stage: z.string(),
  status: z.string(),
  occurredAt: time,
  recordedAt: time,
  event: z.record(z.string(), z.unknown()).describe('The audit event as received (PII masked).'),
  attempt: z
    .object({
      attemptId: z.string(),
      operation: z.string().describe('BatchSave, Submit or Audit.'),
      outcome: z.string(),
      at: time,
      request: z.unknown().describe("This order's model as sent (≤ 16 KB, else its head; PII masked)."),
      reply: z.unknown().describe("Kingdee's reply as it concerns this order (≤ 16 KB)."),
      requestBytes: z.number().int(),
      replyBytes: z.number().int(),
    })
    .nullable()
    .describe('The call to Kingdee this event reports, with its bodies (kept AUDIT_RETENTION_DAYS).'),
});

export const OriginView = z.object({
  topic: z.string().describe('Kafka topic, or `wdt:<method>` for records that never reached Kafka.'),
  partition: z.number().int(),
  offset: z.string(),
  key: nullableText,
});

export const DeadLetterView = z.object({
  id: z.string(),
  stage: z.string(),
  schemeId: nullableText,
  sourceKey: nullableText,
  errorClass: z.string(),
  errorMessage: z.string(),
  attempts: z.number().int(),
  origin: OriginView,
  payloadStorage: z.enum(['inline', 'postgres']),
  payloadSizeBytes: z.number().int().nullable(),
  state: z.string(),
  occurredAt: time,
  repushedAt: time.nullable(),
  repushedBy: nullableText,
});

export const InlinePayloadView = z.object({
  storage: z.literal('inline'),
  encoding: z.enum(['utf8', 'base64']),
  data: z
    .string()
    .nullable()
    .describe('The original bytes (PII masked unless revealed); null when withheld.'),
  json: z.unknown().optional().describe('`data` parsed, when it is JSON.'),
  masked: z.boolean(),
  withheld: z.string().optional().describe('Why data is withheld (binary payload, PII not revealed).'),
});
export const PostgresPayloadView = z.object({
  storage: z.literal('postgres'),
  ref: z.string(),
  sizeBytes: z.number().int(),
  sha256: z.string(),
  stored: z.boolean().describe('Whether dead_letter_payloads still holds the bytes.'),
  href: z.string().describe('Where to download the bytes.'),
});
export const DeadLetterDetailView = DeadLetterView.extend({
  payload: z.discriminatedUnion('storage', [InlinePayloadView, PostgresPayloadView]),
});

export const DeadLetterBriefView = z.object({
  id: z.string(),
  stage: z.string(),
  state: z.string(),
  errorMessage: z.string(),
  occurredAt: time,
});

export const ResyncRequestView = z.object({
  id: z.string(),
  schemeId: z.string(),
  orderNo: z.string(),
  requestedBy: z.string(),
  requestedAt: time,
  state: z.enum(RESYNC_STATES),
  result: nullableText,
  doneAt: time.nullable(),
});

export const AuditOrderDetailView = z.object({
  orderNo: z.string(),
  orders: z.array(AuditOrderView).describe('One row per scheme.'),
  history: pageOf(AuditHistoryView).describe('Newest first.'),
  deadLetters: z.array(DeadLetterBriefView),
  resyncRequests: z.array(ResyncRequestView),
});

export const CircuitView = z.object({
  state: z
    .enum(['closed', 'open', 'half_open', 'unknown'])
    .describe('Worst state over the loader instances.'),
  instances: z.array(
    z.object({
      instance: z.string(),
      state: z.string(),
      lastError: nullableText,
      since: time.nullable(),
      updatedAt: time,
    }),
  ),
});

export const ActionView = z.object({
  id: z.string(),
  tokenName: z.string(),
  action: z.string(),
  target: nullableText,
  params: z.record(z.string(), z.unknown()),
  outcome: nullableText,
  at: time,
});

export const StatsView = z.object({
  counts: z.record(z.string(), z.number().int()).describe('Orders per status.'),
  total: z.number().int(),
  deadLetters: z.record(z.string(), z.number().int()).describe('Dead letters per state.'),
  pendingResyncs: z.number().int(),
  circuit: CircuitView,
  recentActions: z.array(ActionView),
});

export const SchemeView = z.object({
  id: z.string(),
  name: z.string(),
  description: nullableText,
  enabled: z.boolean(),
  inFiles: z.boolean().describe('False for a scheme known only from sync_cursors.'),
  fileError: nullableText.describe(
    "Set when the scheme file's current content is not in use by some service (it does not validate, or a changed idempotency key was refused): the last good version keeps running.",
  ),
  paused: z.boolean(),
  stopped: z
    .object({ reason: z.string(), since: time })
    .nullable()
    .describe(
      'Set when the loader stopped the scheme itself (e.g. a numbering rule replaced its FBillNo key); resume clears it.',
    ),
  parkedDocuments: z
    .number()
    .int()
    .describe(
      'Documents and raw events waiting in Postgres while the scheme is stopped or its Kingdee connection fails.',
    ),
  cursor: z
    .object({
      axis: z.string(),
      value: z.string().describe('Shanghai wall-clock.'),
      ageSeconds: z.number().nullable().describe('now − cursor value.'),
    })
    .nullable(),
  lastRunAt: time.nullable(),
  lastSuccessAt: time.nullable(),
  lastError: nullableText.describe(
    "The extractor's last poll error (e.g. `WDT auth error (code …): …`), else a loader's Kingdee login failure (`Kingdee auth error (code KD_LOGIN_FAILED): …`); null once calls succeed. Never a secret.",
  ),
  extractor: z
    .object({
      role: z
        .enum(['leader', 'standby'])
        .describe('leader: a replica polls WDT for the scheme; standby: replicas wait for the leader lease.'),
      since: time.nullable(),
      instances: z.array(
        z.object({
          instance: z.string(),
          role: z.string(),
          since: time.nullable(),
          updatedAt: time,
        }),
      ),
    })
    .nullable()
    .describe(
      'Extractor replicas of this deployment (DATABASE_SCHEMA) as each reports itself; null when none runs.',
    ),
  lagSeconds: z.number().nullable().describe('now − lastSuccessAt.'),
  counts: z.record(z.string(), z.number().int()),
  deadLettersParked: z.number().int(),
  pendingResyncs: z.number().int(),
  circuit: CircuitView.shape.state,
});
export const SchemesView = pageOf(SchemeView).extend({
  circuit: CircuitView,
  fileErrors: z
    .array(
      z.object({
        file: z.string(),
        schemeId: nullableText.describe('The scheme the file held when it was last good; null if never.'),
        error: z.string(),
        services: z.array(z.string()).describe('The services that refuse the current content.'),
      }),
    )
    .describe('Scheme files whose current content is not in use (including files that never loaded).'),
});

export const PauseView = z.object({
  schemeId: z.string(),
  paused: z.boolean(),
  changed: z.boolean(),
  cursorCreated: z.boolean(),
  stopCleared: z
    .boolean()
    .describe('Resume also cleared a stop the loader had made (its reason is in the action log).'),
});

export const REPUSH_OUTCOMES = [
  'repushed',
  'resync_requested',
  'resync_pending',
  'skipped',
  'not_found',
  'failed',
  'closed',
  'planned',
] as const;
export type RepushOutcome = (typeof REPUSH_OUTCOMES)[number];

export const RepushItemView = z.object({
  kind: z.enum(['dead_letter', 'order']),
  target: z.string().describe('Dead letter id or order number.'),
  schemeId: nullableText,
  orderNo: nullableText,
  outcome: z.enum(REPUSH_OUTCOMES),
  topic: z.string().optional().describe('Where the original bytes went.'),
  deadLetterId: z.string().optional(),
  resyncRequestId: z.string().optional(),
  reason: z.string().optional(),
});
export type RepushItem = z.infer<typeof RepushItemView>;
export const RepushView = z.object({
  results: z.array(RepushItemView),
  summary: z.record(z.string(), z.number().int()),
  truncated: z.boolean().describe('`all` matched more orders than its limit.'),
  wdtCalls: z
    .number()
    .int()
    .describe(
      'WDT calls the re-reads take (at least one per order re-read; each runs at background priority).',
    ),
});

export const ResyncCreatedView = z.object({
  schemeId: z.string(),
  results: z.array(
    z.object({ orderNo: z.string(), id: z.string(), state: z.string(), created: z.boolean() }),
  ),
});

export const BaseDataWaitingView = z.object({
  items: z.array(
    z.object({
      form: z
        .string()
        .describe('Kingdee base-data form: BD_Supplier, BD_MATERIAL, BD_STOCK, ORG_Organizations'),
      noun: z.string(),
      code: z.string(),
      org: nullableText.describe('The organisation the code must be allocated to'),
      problem: z.enum(['missing', 'not_allocated', 'forbidden', 'not_audited']),
      diagnosis: z.string().describe('e.g. "supplier GYS999 does not exist in Kingdee"'),
      kingdeeMessage: nullableText,
      count: z.number().int().describe('Orders waiting for this code'),
      orders: z.array(
        z.object({ schemeId: z.string(), orderNo: z.string(), billKey: z.string(), since: time }),
      ),
    }),
  ),
  pendingChecks: z.number().int().describe('Check requests the loader has not finished yet'),
});

export const BaseDataCheckView = z.object({
  id: z.string(),
  state: z.literal('pending'),
  requestedAt: time,
});

export const ErrorView = z.object({
  statusCode: z.number().int(),
  message: z.union([z.string(), z.array(z.string())]),
  error: z.string().optional(),
});
