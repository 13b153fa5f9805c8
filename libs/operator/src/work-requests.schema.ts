import { z } from 'zod';
import { parseTimeInput } from '@libs/common';
import { pageOf } from './operator-api.schema';

/**
 * Requests the operator writes to Postgres and the workers carry out (the operator never calls WDT
 * or Kingdee): backfills and replays of a time range with progress, and live previews of a scheme.
 */

const timeInput = z.string().transform((text, ctx) => {
  const ms = parseTimeInput(text);
  if (ms !== undefined) return new Date(ms).toISOString();
  ctx.addIssue({
    code: 'custom',
    message: 'not a time: "yyyy-MM-dd HH:mm:ss" (Shanghai) or ISO 8601, e.g. 2026-11-28 08:00:00',
  });
  return z.NEVER;
});
const shanghaiNote = '`yyyy-MM-dd HH:mm:ss` or ISO 8601; without an offset: Shanghai time (+08:00).';
const time = z.string().describe('ISO 8601 in Shanghai time, e.g. 2026-12-04T19:20:00.000+08:00');
const schemeId = z.string().min(1).max(100).describe('Scheme id.');

export const RANGE_KINDS = ['backfill', 'replay'] as const;
export const RANGE_STATES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export const PREVIEW_STATES = ['fetching', 'mapping', 'checking', 'done', 'failed'] as const;
export const CODE_STATES = ['ok', 'missing', 'forbidden', 'unallocated', 'unchecked'] as const;

function range<T extends z.ZodRawShape>(shape: T) {
  return z
    .strictObject({
      ...shape,
      from: timeInput.describe(`Start (inclusive): ${shanghaiNote}`),
      to: timeInput.describe(`End (exclusive): ${shanghaiNote}`),
    })
    .refine((v) => Date.parse((v as { from: string }).from) < Date.parse((v as { to: string }).to), {
      path: ['to'],
      message: 'must be after from',
    });
}

export const ReplayBody = range({
  schemeId: schemeId.optional().describe('Only the events of this scheme (default: every scheme).'),
  stage: z
    .enum(['transform', 'load'])
    .describe('transform: re-map raw events into documents; load: feed stored documents to the loader.'),
});

export const BackfillBody = range({
  schemeId,
  force: z.boolean().optional().describe('Re-emit records even if unchanged since last emitted.'),
});

export const RangeRequestsQuery = z.strictObject({
  kind: z.enum(RANGE_KINDS).optional(),
  state: z.enum(RANGE_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Page size, at most 200.'),
  offset: z.coerce.number().int().min(0).default(0).describe('Items to skip.'),
});

export const RangeRequestView = z.object({
  id: z.string(),
  kind: z.enum(RANGE_KINDS),
  schemeId: z.string().nullable(),
  stage: z.enum(['extract', 'transform', 'load']),
  from: time,
  to: time,
  force: z.boolean(),
  state: z.enum(RANGE_STATES),
  progress: z.object({
    done: z.number().int(),
    total: z
      .number()
      .int()
      .nullable()
      .describe('Null while unknown (a backfill knows it after its last window).'),
  }),
  message: z.string().nullable(),
  cancelRequested: z.boolean(),
  requestedBy: z.string(),
  requestedAt: time,
  startedAt: time.nullable(),
  finishedAt: time.nullable(),
});

export const RangeRequestPage = pageOf(RangeRequestView);

export const PreviewBody = z
  .strictObject({
    schemeId,
    orderNo: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('A WDT order number: the extractor reads it from WDT.'),
    record: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('A WDT record (JSON object) to map instead.'),
    schemeYaml: z
      .string()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe('The draft being edited (YAML); default: the saved scheme.'),
  })
  .refine((b) => (b.orderNo === undefined) !== (b.record === undefined), {
    path: ['orderNo'],
    message: 'give exactly one of orderNo and record',
  });

export const PreviewView = z.object({
  id: z.string(),
  schemeId: z.string(),
  orderNo: z.string().nullable(),
  state: z.enum(PREVIEW_STATES),
  error: z.string().nullable(),
  record: z.unknown().describe('The WDT record, personal data masked.'),
  request: z.unknown().describe('The BatchSave body the scheme would send, personal data masked.'),
  preconditions: z.array(z.object({ name: z.string(), passed: z.boolean(), message: z.string() })),
  codes: z.array(
    z.object({
      field: z.string(),
      formId: z.string(),
      code: z.string(),
      state: z.enum(CODE_STATES),
      message: z.string(),
    }),
  ),
  requestedBy: z.string(),
  requestedAt: time,
  updatedAt: time,
});

export const SchemeIssuesView = z.object({
  statusCode: z.number().int(),
  message: z.string(),
  error: z.string().optional(),
  issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })),
});

export const WorkRequestIdParams = z.strictObject({ id: z.uuid().describe('Id (uuid).') });

export const WORK_REQUEST_COMPONENTS: Record<string, z.ZodType> = {
  RangeRequest: RangeRequestView,
  Preview: PreviewView,
  SchemeIssues: SchemeIssuesView,
};
