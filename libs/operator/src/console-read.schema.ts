import { z } from 'zod';
import {
  AuditOrderDetailView,
  AuditOrderView,
  AuditStatusParam,
  limit,
  offset,
  pageOf,
  schemeIdParam,
  StageParam,
  time,
  timeRange,
} from './operator-api.schema';
import { FAILURE_STATUSES } from './failure-groups.util';

// ---- queries --------------------------------------------------------------------------------
export const OVERVIEW_BUCKETS = { '1m': 60, '5m': 300, '1h': 3600 } as const;

export const OverviewQuery = timeRange({
  schemeId: schemeIdParam.optional(),
  bucket: z
    .enum(['1m', '5m', '1h'])
    .default('1m')
    .describe('Width of a series bucket; at most 1,500 buckets between from and to.'),
}).describe('from/to default to the last hour.');

export const FailureGroupsQuery = z.strictObject({
  schemeId: schemeIdParam.optional(),
  status: z.enum(FAILURE_STATUSES).optional(),
});

const orderFilters = {
  status: AuditStatusParam.optional(),
  schemeId: schemeIdParam.optional(),
  stage: StageParam.optional(),
  q: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .describe('Part of the order number (case-insensitive; `%` and `_` match themselves).'),
};

export const ConsoleOrdersQuery = timeRange({ ...orderFilters, limit, offset });

export const OrdersExportQuery = timeRange({
  ...orderFilters,
  format: z.enum(['csv', 'xlsx']).default('csv'),
});

// ---- views ----------------------------------------------------------------------------------
export const SCHEME_STATES = [
  'running',
  'paused',
  'stopped',
  'standby',
  'circuit_open',
  'error',
  'disabled',
] as const;

export const FailureGroupView = z.object({
  key: z.string().describe('Stable id of the group: scheme, status, error class, field, value or message.'),
  schemeId: z.string(),
  status: z.string(),
  reason: z
    .string()
    .describe("Language-neutral: Kingdee's message with numbers normalised, or the base-data problem."),
  label: z.string().describe('For people, in the language of Accept-Language (zh-CN by default, en).'),
  field: z.string().nullable(),
  value: z.string().nullable().describe('The failing value (e.g. the base-data code) when known.'),
  count: z.number().int(),
  orderNos: z.array(z.string()).describe('Newest first, at most 50.'),
  latestAt: time,
});

export const FailureGroupsView = z.object({ items: z.array(FailureGroupView) });

export const OverviewView = z.object({
  from: time,
  to: time,
  bucket: z.enum(['1m', '5m', '1h']),
  schemes: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      status: z.enum(SCHEME_STATES),
      lastError: z.string().nullable(),
      cursor: z.object({ value: z.string(), ageSeconds: z.number().nullable() }).nullable(),
      lagSeconds: z.number().nullable(),
      counts: z.record(z.string(), z.number().int()),
    }),
  ),
  series: z
    .array(
      z.object({
        at: time,
        loaded: z.number().int(),
        failed: z.number().int(),
        skipped: z.number().int(),
        deadLettered: z.number().int(),
      }),
    )
    .describe('Orders reaching each status per bucket (from the audit history), every bucket present.'),
  latency: z
    .array(
      z.object({
        at: time,
        p50Ms: z.number().nullable(),
        p90Ms: z.number().nullable(),
        p99Ms: z.number().nullable(),
        count: z.number().int(),
      }),
    )
    .describe('WDT `modified` of the loaded version → the loaded event, per bucket with loads.'),
  backlog: z.array(
    z.object({
      stage: z.enum(['extract', 'transform', 'load', 'audit']),
      lag: z
        .number()
        .nullable()
        .describe('extract: cursor age in seconds; others: messages behind (consumer lag).'),
      unit: z.enum(['seconds', 'messages']),
      updatedAt: time.nullable(),
    }),
  ),
  failureGroups: z.array(FailureGroupView),
});

export const SourceVersionView = z.object({
  sourceVersion: z.string(),
  firstSeenAt: time,
  record: z
    .unknown()
    .describe('The WDT record of this version (PII masked); null before snapshots were kept.'),
  document: z
    .unknown()
    .describe('The Kingdee document mapped from it (PII masked); null when skipped or not mapped.'),
});

export const ConsoleAuditOrderView = AuditOrderView.extend({
  versions: z.array(SourceVersionView).describe('Newest first, at most 10.'),
  lastReply: z
    .object({ operation: z.string(), outcome: z.string(), at: time, reply: z.unknown() })
    .nullable()
    .describe("Kingdee's latest reply to any attempt for the order."),
  change: z
    .object({
      loadedVersion: z.string().nullable(),
      newVersion: z.string().nullable(),
      fields: z.array(z.object({ path: z.string(), loaded: z.unknown(), current: z.unknown() })),
    })
    .nullable()
    .optional()
    .describe("For changed_after_load: the loaded version's document against the newest one."),
});

export const ConsoleAuditOrderDetailView = AuditOrderDetailView.extend({
  orders: z.array(ConsoleAuditOrderView).describe('One row per scheme.'),
});

export const ConsoleOrdersPageView = pageOf(AuditOrderView).extend({
  total: z.number().int().describe('Orders matching the filters (all pages).'),
});

export const CONSOLE_READ_COMPONENTS: Record<string, z.ZodType> = {
  Overview: OverviewView,
  FailureGroup: FailureGroupView,
  SourceVersion: SourceVersionView,
  ConsoleAuditOrderDetail: ConsoleAuditOrderDetailView,
  ConsoleOrdersPage: ConsoleOrdersPageView,
};
