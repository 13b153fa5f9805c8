import { z } from 'zod';
import { parseTimeInput } from '@libs/common';
import type { RouteSpec } from './openapi.document';
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

export const WORK_REQUEST_ROUTES: RouteSpec[] = [
  {
    method: 'post',
    path: '/api/replays',
    operationId: 'requestReplay',
    tag: 'repair',
    summary: 'Replay a time range through the transform or load stage',
    description:
      'Writes a request a transformer (stage transform) or loader (stage load) picks up; it reads the range of the ' +
      'raw or document topic with a fresh consumer group (live offsets untouched). Idempotent downstream: no bill ' +
      'is written twice. Recorded as an action.',
    body: ReplayBody,
    status: 202,
    response: RangeRequestView,
    responseDescription: 'The queued request',
    errors: [400],
    role: 'operator',
  },
  {
    method: 'post',
    path: '/api/backfills',
    operationId: 'requestBackfill',
    tag: 'repair',
    summary: 'Backfill a time range of one scheme from WDT',
    description:
      'Writes a request the extractor leading the scheme picks up (under its WDT rate limit); the incremental cursor ' +
      'is left alone. Progress counts the records read; the total is known once the last window is read.',
    body: BackfillBody,
    status: 202,
    response: RangeRequestView,
    responseDescription: 'The queued request',
    errors: [400],
    role: 'operator',
  },
  {
    method: 'get',
    path: '/api/range-requests',
    operationId: 'listRangeRequests',
    tag: 'repair',
    summary: 'Backfill and replay requests with their progress, newest first',
    query: RangeRequestsQuery,
    status: 200,
    response: RangeRequestPage,
    responseDescription: 'A page of requests',
    errors: [400],
    role: 'viewer',
  },
  {
    method: 'get',
    path: '/api/range-requests/:id',
    operationId: 'getRangeRequest',
    tag: 'repair',
    summary: 'One backfill or replay request with its progress',
    params: WorkRequestIdParams,
    status: 200,
    response: RangeRequestView,
    responseDescription: 'The request',
    errors: [400, 404],
    role: 'viewer',
  },
  {
    method: 'post',
    path: '/api/range-requests/:id/cancel',
    operationId: 'cancelRangeRequest',
    tag: 'repair',
    summary: 'Cancel a backfill or replay',
    description:
      'A queued request ends cancelled at once; a running one is stopped by its worker within seconds (what it ' +
      'emitted stays). 409 when it already ended. Recorded as an action.',
    params: WorkRequestIdParams,
    status: 200,
    response: RangeRequestView,
    responseDescription: 'The request',
    errors: [400, 404, 409],
    role: 'operator',
  },
  {
    method: 'post',
    path: '/api/previews',
    operationId: 'requestPreview',
    tag: 'schemes',
    summary: 'Live preview: what a scheme (or a draft of it) makes of one record',
    description:
      'Exactly one of orderNo (the extractor leading the scheme reads it from WDT) and record (mapped at once). ' +
      'Shows the BatchSave body it would send, every precondition with whether it passes, and the referenced ' +
      'codes, which a loader checks in Kingdee (missing, forbidden, unallocated). Personal data masked. A draft ' +
      'that does not validate: 400 with `issues`. Poll GET /api/previews/{id} until state is done or failed.',
    body: PreviewBody,
    status: 202,
    response: PreviewView,
    responseDescription: 'The preview',
    errors: [400],
    role: 'admin',
  },
  {
    method: 'get',
    path: '/api/previews/:id',
    operationId: 'getPreview',
    tag: 'schemes',
    summary: 'A live preview',
    params: WorkRequestIdParams,
    status: 200,
    response: PreviewView,
    responseDescription: 'The preview',
    errors: [400, 404],
    role: 'viewer',
  },
];

export const WORK_REQUEST_COMPONENTS: Record<string, z.ZodType> = {
  RangeRequest: RangeRequestView,
  Preview: PreviewView,
  SchemeIssues: SchemeIssuesView,
};
