// Colours and grouping of order and scheme statuses. Labels come from i18n (`status.<name>`).
import type { AuditOrder, FailureGroup, SchemeListItem, SchemeRunStatus } from '../api/console-types';

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

/** Order numbers, amounts and ids replaced so messages about the same problem group together. */
export function normaliseMessage(message: string): string {
  return message
    .replace(/[A-Za-z][\w-]*\d[\w-]*|\d[\w.-]*/g, '#')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Failures grouped on the client (status + error class + field + normalised message): the fallback
 * where `GET /api/failure-groups` is not available, and the same key the server uses otherwise.
 */
export function groupFailures(orders: AuditOrder[]): FailureGroup[] {
  const groups = new Map<string, FailureGroup>();
  for (const o of orders) {
    if (!NEEDS_A_PERSON.has(o.status)) continue;
    const message = o.errorMessage ?? o.reason ?? o.status;
    const key = [o.status, o.errorClass ?? '', o.errorField ?? '', normaliseMessage(message)].join('|');
    const group = groups.get(key) ?? {
      key,
      schemeId: o.schemeId,
      status: o.status,
      reason: o.reason,
      label: message,
      field: o.errorField,
      value: null,
      count: 0,
      orderNos: [],
      latestAt: null,
    };
    group.count += 1;
    if (group.orderNos.length < 50) group.orderNos.push(o.sourceKey);
    if (!group.latestAt || o.lastOccurredAt > group.latestAt) group.latestAt = o.lastOccurredAt;
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
}

/** `供应商 GYS999 在金蝶中不存在: 3` — a group's one-line summary (count text from i18n). */
export function failureGroupTitle(group: Pick<FailureGroup, 'label' | 'count'>, countText: string): string {
  return `${group.label} · ${countText}`;
}
