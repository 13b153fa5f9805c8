// Shapes of the endpoints of issue 11 (console contract, sections 1–4) that docs/openapi.json does
// not describe yet. Written by hand from the contract; replaced by generated types after the merge.
import type { components } from './openapi';

export type Role = 'viewer' | 'operator' | 'admin';

export interface Session {
  name: string;
  role: Role;
  csrfToken: string;
  expiresAt: string | null;
}

export type SchemeRunStatus =
  'running' | 'paused' | 'stopped' | 'standby' | 'circuit_open' | 'error' | 'disabled';

export interface FailureGroup {
  key: string;
  schemeId: string;
  status: string;
  reason: string | null;
  label: string;
  field: string | null;
  value: string | null;
  count: number;
  orderNos: string[];
  latestAt: string | null;
}

export interface OverviewScheme {
  id: string;
  name: string;
  status: SchemeRunStatus;
  lastError: string | null;
  cursor: { value: string; ageSeconds: number | null } | null;
  lagSeconds: number | null;
  counts: Record<string, number>;
}

export interface Overview {
  from: string;
  to: string;
  bucket: '1m' | '5m' | '1h';
  schemes: OverviewScheme[];
  series: { at: string; loaded: number; failed: number; skipped: number; deadLettered: number }[];
  latency: { at: string; p50Ms: number | null; p90Ms: number | null; p99Ms: number | null; count: number }[];
  backlog: { stage: 'extract' | 'transform' | 'load' | 'audit'; lag: number; updatedAt: string | null }[];
  failureGroups: FailureGroup[];
}

export type AuditOrder = components['schemas']['AuditOrder'];
export type AuditOrderDetail = components['schemas']['AuditOrderDetail'];
export type HistoryItem = AuditOrderDetail['history']['items'][number];
export type SchemeListItem = components['schemas']['Schemes']['items'][number];
export type Action = components['schemas']['Action'];

/** `GET /api/audit/orders` with the contract's `total` (absent before the merge). */
export interface OrdersPage {
  items: AuditOrder[];
  limit: number;
  offset: number;
  nextOffset: number | null;
  total?: number;
}

export interface OrderVersion {
  sourceVersion: string;
  firstSeenAt: string;
  record: unknown;
  document: unknown;
}

export interface LastReply {
  operation: string;
  at: string;
  outcome?: string;
  reply: unknown;
}

export interface ChangeDiff {
  loadedVersion: string | null;
  newVersion: string | null;
  fields: { path: string; loaded: unknown; current: unknown }[];
}

/** An order row of the detail with the contract's additions (all optional until merged). */
export type AuditOrderWithSnapshots = AuditOrder & {
  versions?: OrderVersion[];
  lastReply?: LastReply | null;
  change?: ChangeDiff | null;
};

export type RangeRequestState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface RangeRequest {
  id: string;
  kind: 'replay' | 'backfill';
  schemeId: string | null;
  stage: 'transform' | 'load' | null;
  from: string;
  to: string;
  state: RangeRequestState;
  progress: { done: number; total: number | null };
  message: string | null;
  requestedBy: string;
  requestedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface SchemeIssue {
  path: (string | number)[];
  message: string;
}

export interface SchemeFile {
  schemeId: string;
  yaml: string;
  etag: string;
  writable: boolean;
  path: string;
  scheme: unknown;
}

export interface SchemeValidation {
  valid: boolean;
  issues: SchemeIssue[];
  scheme: unknown;
}

export interface SchemeRevision {
  revision: number;
  author: string;
  comment: string | null;
  createdAt: string;
  diff: string;
}

export type PreviewState = 'fetching' | 'mapping' | 'checking' | 'done' | 'failed';

export interface Preview {
  id: string;
  state: PreviewState;
  error: string | null;
  record: unknown;
  request: unknown;
  preconditions: { name: string; passed: boolean; message: string | null }[];
  codes: {
    field: string;
    formId: string;
    code: string;
    state: 'ok' | 'missing' | 'forbidden' | 'unallocated' | 'unchecked';
    message: string | null;
  }[];
}
