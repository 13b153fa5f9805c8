import { z } from 'zod';
import { parseTimeInput } from '@libs/common';
import { pageOf } from './operator-api.schema';

/**
 * Reconciliation runs (issue 12): the operator queues a run, a reconciler carries it out (the operator
 * never calls WDT or Kingdee), and the operator reads its progress, counts and findings back from
 * Postgres, exports them, and requests re-pushes of findings (carried out by the reconciler too).
 */

const shanghaiNote = '`yyyy-MM-dd HH:mm:ss` or ISO 8601; without an offset: Shanghai time (+08:00).';
/** Max span of one requested run: a quarter (month-end and quarter-end closing). */
export const MAX_RECONCILE_SPAN_DAYS = 93;

const periodInput = z.string().transform((text, ctx) => {
  const ms = parseTimeInput(text);
  if (ms !== undefined) return ms;
  ctx.addIssue({
    code: 'custom',
    message: 'not a time: "yyyy-MM-dd HH:mm:ss" (Shanghai) or ISO 8601, e.g. 2026-11-30 00:00:00',
  });
  return z.NEVER;
});

export const FINDING_KIND_VALUES = [
  'missing_in_erp',
  'duplicated_in_erp',
  'extra_in_erp',
  'differs',
  'trail_disagrees',
] as const;
export const REPUSHABLE_KIND_VALUES = ['missing_in_erp', 'differs'] as const;
const RUN_STATES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
const REPUSH_STATES = ['requested', 'running', 'done', 'refused', 'failed'] as const;

export const ReconcileRequestBody = z
  .strictObject({
    schemeId: z.string().min(1).max(100).describe('Scheme id.'),
    from: periodInput.describe(`Start of the period of consign time (inclusive): ${shanghaiNote}`),
    to: periodInput.describe(`End of the period (inclusive): ${shanghaiNote}`),
  })
  .refine((b) => b.from <= b.to, { path: ['to'], message: 'must not be before from' })
  .refine((b) => b.to - b.from <= MAX_RECONCILE_SPAN_DAYS * 86_400_000, {
    path: ['to'],
    message: `a run covers at most ${MAX_RECONCILE_SPAN_DAYS} days: split the period`,
  });

export const ReconcileRunIdParams = z.strictObject({ id: z.uuid().describe('Run id (uuid).') });

export const ReconcileRunsQuery = z.strictObject({
  schemeId: z.string().min(1).max(100).optional().describe("That scheme's runs, newest first."),
  limit: z.coerce.number().int().min(1).max(200).default(20).describe('Page size, at most 200.'),
  offset: z.coerce.number().int().min(0).default(0).describe('Items to skip.'),
});

export const FindingsQuery = z.strictObject({
  kind: z.enum(FINDING_KIND_VALUES).optional().describe('Only this class.'),
  q: z.string().min(1).max(200).optional().describe('Key, order number or bill number contains.'),
  limit: z.coerce.number().int().min(1).max(500).default(100).describe('Page size, at most 500.'),
  offset: z.coerce.number().int().min(0).default(0).describe('Items to skip.'),
});

export const ExportQuery = z.strictObject({
  format: z.enum(['xlsx', 'csv']).default('xlsx'),
});

export const RepushFindingsBody = z.strictObject({
  kinds: z
    .array(z.enum(REPUSHABLE_KIND_VALUES))
    .min(1)
    .optional()
    .describe('Classes to re-push (default: missing_in_erp and differs).'),
  keys: z.array(z.string().min(1).max(200)).min(1).max(10_000).optional().describe('Only these keys.'),
});

const counts = z
  .object({
    matched: z.number().int(),
    missing_in_erp: z.number().int(),
    duplicated_in_erp: z.number().int(),
    extra_in_erp: z.number().int(),
    differs: z.number().int(),
    trail_disagrees: z.number().int(),
  })
  .describe('Findings per class (matched is counted, not listed).');

const progress = z
  .object({
    phase: z.enum(['source', 'target', 'compare', 'finished']).optional(),
    sourceOrders: z.number().int().optional().describe('WDT orders read.'),
    sourceTotal: z.number().int().nullable().optional().describe("WDT's total for the period, once known."),
    sourcePages: z.number().int().optional(),
    sourceUnusable: z.number().int().optional().describe('WDT entries that were not usable orders.'),
    wdtCalls: z.number().int().optional(),
    targetRows: z.number().int().optional().describe('ExecuteBillQuery rows (one per bill line).'),
    targetBills: z.number().int().optional().describe('Distinct bills (FID).'),
    kingdeeCalls: z.number().int().optional(),
    keysCompared: z.number().int().optional(),
    keysTotal: z.number().int().nullable().optional(),
  })
  .describe('What the run has done so far.');

export const ReconcileRunView = z.object({
  id: z.string(),
  schemeId: z.string(),
  periodFrom: z.string().describe('Shanghai wall clock, inclusive.'),
  periodTo: z.string().describe('Shanghai wall clock, inclusive.'),
  trigger: z.enum(['schedule', 'api', 'cli']),
  scheduleSlot: z.string().nullable().describe('The night a scheduled run covers for (yyyy-MM-dd).'),
  requestedBy: z.string(),
  state: z.enum(RUN_STATES),
  phase: z.enum(['source', 'target', 'compare', 'finished']).nullable(),
  progress,
  counts: counts.nullable(),
  error: z.string().nullable(),
  cancelRequested: z.boolean(),
  requestedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const SchemeReconciliationView = z.object({
  schemeId: z.string(),
  schemeName: z.string().nullable(),
  schedule: z
    .object({ enabled: z.boolean(), cron: z.string(), days: z.number().int(), timezone: z.string() })
    .nullable()
    .describe('The nightly schedule from the scheme file (null for a scheme no longer loaded).'),
  latest: ReconcileRunView.nullable().describe('The newest run, whatever its state.'),
  lastDone: ReconcileRunView.nullable().describe('The newest finished run with counts.'),
});

const billRef = z.object({ fid: z.string(), billNo: z.string(), documentStatus: z.string() });
const difference = z.object({
  kind: z.enum(['value', 'line_count', 'not_audited', 'un_audited']),
  field: z.string(),
  expected: z.string().nullable(),
  actual: z.string().nullable(),
});

export const FindingView = z.object({
  seq: z.number().int(),
  kind: z.enum(FINDING_KIND_VALUES),
  key: z.string().describe("The bill's idempotency value (e.g. FBillNo)."),
  orderNo: z.string().nullable().describe('The WDT order (link to its trail: /api/audit/orders/{orderNo}).'),
  cause: z
    .string()
    .nullable()
    .describe(
      'missing_in_erp: waiting | failed | skipped | closed | never_seen | unexplained; extra_in_erp: no_order | not_eligible.',
    ),
  trailStatus: z.string().nullable(),
  billNumbers: z.array(z.string()).describe('Bills a person should review in Kingdee.'),
  bills: z.array(billRef).describe('The bills Kingdee held for the key.'),
  differences: z.array(difference).describe('differs: each field with both values.'),
  detail: z.string().nullable().describe('A sentence for trail_disagrees and the reasons of the others.'),
  repushState: z.enum(REPUSH_STATES).nullable(),
  repushResult: z.string().nullable(),
  repushRequestedBy: z.string().nullable(),
  repushRequestedAt: z.string().nullable(),
  repushedAt: z.string().nullable(),
});

export const ReconcileRunList = z.object({ items: z.array(SchemeReconciliationView) });
export const ReconcileRunPage = pageOf(ReconcileRunView);
export const FindingPage = pageOf(FindingView).extend({
  total: z.number().int().describe('Findings matching the filter.'),
});
export const RepushFindingsResult = z.object({
  requested: z.number().int().describe('Findings now waiting for the reconciler.'),
  notRequested: z
    .array(z.object({ key: z.string(), kind: z.string(), reason: z.string() }))
    .describe('Findings left as they were, and why.'),
});

export const RECONCILE_COMPONENTS: Record<string, z.ZodType> = {
  ReconcileRun: ReconcileRunView,
  ReconcileFinding: FindingView,
  SchemeReconciliation: SchemeReconciliationView,
};
