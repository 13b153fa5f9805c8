// Colours and grouping of order and scheme statuses. Labels come from i18n (`status.<name>`).
import type { FailureGroup, SchemeListItem, SchemeRunStatus } from '../api/console-types';

export const ORDER_STATUSES = [
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

const ORDER_COLORS: Record<string, string> = {
  loaded: 'success',
  skipped: 'default',
  closed: 'default',
  failed: 'error',
  dead_lettered: 'error',
  conflict_in_erp: 'error',
  duplicate_in_erp: 'error',
  changed_after_load: 'warning',
  waiting_base_data: 'warning',
  saved_not_audited: 'warning',
  settling: 'processing',
  parked: 'processing',
  duplicate: 'default',
};

/** antd Tag colour of an order status (unknown statuses stay neutral). */
export function orderStatusColor(status: string | null | undefined): string {
  return (status && ORDER_COLORS[status]) || 'default';
}

const SCHEME_COLORS: Record<SchemeRunStatus, string> = {
  running: 'success',
  paused: 'warning',
  stopped: 'error',
  standby: 'processing',
  circuit_open: 'error',
  error: 'error',
  disabled: 'default',
};

export function schemeStatusColor(status: string): string {
  return SCHEME_COLORS[status as SchemeRunStatus] ?? 'default';
}

/** Statuses a person has to look at (the repair page's work list). */
export const NEEDS_A_PERSON = new Set([
  'failed',
  'dead_lettered',
  'waiting_base_data',
  'conflict_in_erp',
  'duplicate_in_erp',
  'changed_after_load',
  'saved_not_audited',
]);

/**
 * A scheme's run status from `GET /api/schemes` (the overview endpoint reports it directly; this
 * derives the same where only the list is at hand).
 */
export function schemeRunStatus(
  s: Pick<SchemeListItem, 'enabled' | 'paused' | 'stopped' | 'circuit' | 'lastError' | 'extractor'> & {
    status?: string;
  },
): SchemeRunStatus {
  if (s.status) return s.status as SchemeRunStatus;
  if (!s.enabled) return 'disabled';
  if (s.stopped) return 'stopped';
  if (s.paused) return 'paused';
  if (s.circuit === 'open') return 'circuit_open';
  if (s.extractor && s.extractor.role === 'standby') return 'standby';
  if (s.lastError) return 'error';
  return 'running';
}

/** `供应商 GYS999 在金蝶中不存在: 3` — a group's one-line summary (count text from i18n). */
export function failureGroupTitle(group: Pick<FailureGroup, 'label' | 'count'>, countText: string): string {
  return `${group.label} · ${countText}`;
}
