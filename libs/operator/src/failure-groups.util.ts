/** Statuses of orders that need a person, grouped by reason on the console's overview and repair pages. */
export const FAILURE_STATUSES = [
  'failed',
  'dead_lettered',
  'waiting_base_data',
  'conflict_in_erp',
  'duplicate_in_erp',
  'changed_after_load',
] as const;

export type Lang = 'zh-CN' | 'en';

/** A base-data code an order waits for (base_data_waits). */
export interface FailureWait {
  noun: string;
  field: string;
  code: string;
  org: string;
  problem: string;
}

/** An order needing a person: its latest outcome (audit_orders) and the codes it waits for. */
export interface FailureInput {
  schemeId: string;
  sourceKey: string;
  status: string;
  reason: string | null;
  errorClass: string | null;
  errorField: string | null;
  errorMessage: string | null;
  occurredAt: Date;
  waits: FailureWait[];
}

export interface FailureGroup {
  key: string;
  schemeId: string;
  status: string;
  /** Language-neutral reason: Kingdee's message normalised, or the base-data problem in English. */
  reason: string;
  /** The reason as a person reads it, in the asked language. */
  label: string;
  field: string | null;
  /** The failing value (a base-data code) when it is known. */
  value: string | null;
  count: number;
  /** Newest first, at most `maxOrderNos`. */
  orderNos: string[];
  latestAt: Date;
}

const NOUNS: Record<string, { zh: string; en: string }> = {
  supplier: { zh: '供应商', en: 'supplier' },
  material: { zh: '物料', en: 'material' },
  stock: { zh: '仓库', en: 'stock' },
  organisation: { zh: '组织', en: 'organisation' },
};

const STATUS_LABELS: Record<string, { zh: string; en: string }> = {
  failed: { zh: '加载失败', en: 'failed' },
  dead_lettered: { zh: '进入死信', en: 'dead-lettered' },
  waiting_base_data: { zh: '等待基础资料', en: 'waiting for base data' },
  conflict_in_erp: { zh: '金蝶中已有冲突单据', en: 'conflicting bill in Kingdee' },
  duplicate_in_erp: { zh: '金蝶中有重复单据', en: 'duplicate bills in Kingdee' },
  changed_after_load: { zh: '加载后单据已变更', en: 'changed after load' },
};

/** `supplier GYS999 does not exist in Kingdee` / `供应商 GYS999 在金蝶中不存在`. */
export function describeWait(w: FailureWait, lang: Lang): string {
  const noun = NOUNS[w.noun] ?? { zh: w.noun, en: w.noun };
  if (lang === 'en') {
    const what = `${noun.en} ${w.code}`;
    switch (w.problem) {
      case 'missing':
        return `${what} does not exist in Kingdee`;
      case 'not_allocated':
        return `${what} is not allocated to organisation ${w.org || '?'} in Kingdee`;
      case 'forbidden':
        return `${what} is forbidden in Kingdee`;
      case 'not_audited':
        return `${what} is not audited in Kingdee`;
      default:
        return `${what}: ${w.problem}`;
    }
  }
  const what = `${noun.zh} ${w.code}`;
  switch (w.problem) {
    case 'missing':
      return `${what} 在金蝶中不存在`;
    case 'not_allocated':
      return `${what} 未分配到金蝶组织 ${w.org || '?'}`;
    case 'forbidden':
      return `${what} 在金蝶中已禁用`;
    case 'not_audited':
      return `${what} 在金蝶中未审核`;
    default:
      return `${what}：${w.problem}`;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Kingdee's message with what differs between orders taken out, so one cause is one group: the
 * order's own number becomes `{order}`, other numbers `#` (line numbers, ids, quantities).
 */
export function normaliseMessage(message: string, orderNo: string): string {
  let text = message.trim().replace(/\s+/g, ' ');
  if (orderNo !== '') text = text.replace(new RegExp(escapeRegExp(orderNo), 'g'), '{order}');
  return text.replace(/\d+(?:[.,]\d+)*/g, '#');
}

function labelOf(status: string, message: string, lang: Lang): string {
  const s = STATUS_LABELS[status] ?? { zh: status, en: status };
  return lang === 'en' ? `${s.en}: ${message}` : `${s.zh}：${message}`;
}

/**
 * Groups orders that need a person by cause: status + error class + error field + the failing
 * value when it is known (the base-data code an order waits for; an order waiting for two codes is in
 * both groups), else Kingdee's message normalised. Largest groups first.
 */
export function groupFailures(rows: FailureInput[], lang: Lang, maxOrderNos = 50): FailureGroup[] {
  const groups = new Map<string, FailureGroup & { orders: Array<{ no: string; at: number }> }>();
  const add = (
    row: FailureInput,
    parts: { field: string | null; value: string | null; reason: string; label: string },
  ) => {
    const key = [
      row.schemeId,
      row.status,
      row.errorClass ?? '',
      parts.field ?? '',
      parts.value ?? parts.reason,
    ].join('|');
    const g =
      groups.get(key) ??
      ({
        key,
        schemeId: row.schemeId,
        status: row.status,
        reason: parts.reason,
        label: parts.label,
        field: parts.field,
        value: parts.value,
        count: 0,
        orderNos: [],
        latestAt: row.occurredAt,
        orders: [],
      } satisfies FailureGroup & { orders: Array<{ no: string; at: number }> });
    if (g.orders.some((o) => o.no === row.sourceKey)) return;
    g.orders.push({ no: row.sourceKey, at: row.occurredAt.getTime() });
    g.count += 1;
    if (row.occurredAt.getTime() > g.latestAt.getTime()) {
      g.latestAt = row.occurredAt;
      g.label = parts.label;
    }
    groups.set(key, g);
  };
  for (const row of rows) {
    if (row.waits.length > 0) {
      for (const w of row.waits)
        add(row, {
          field: w.field,
          value: w.code,
          reason: describeWait(w, 'en'),
          label: describeWait(w, lang),
        });
      continue;
    }
    const message = row.errorMessage ?? row.reason ?? row.errorClass ?? row.status;
    const reason = normaliseMessage(message, row.sourceKey);
    // Grouped by the normalised text; shown with the newest order's own message (`第1行` reads
    // better than `第#行`).
    add(row, { field: row.errorField, value: null, reason, label: labelOf(row.status, message, lang) });
  }
  return [...groups.values()]
    .map(({ orders, ...g }) => ({
      ...g,
      orderNos: orders
        .sort((a, b) => b.at - a.at || a.no.localeCompare(b.no))
        .slice(0, maxOrderNos)
        .map((o) => o.no),
    }))
    .sort(
      (a, b) =>
        b.count - a.count || b.latestAt.getTime() - a.latestAt.getTime() || a.key.localeCompare(b.key),
    );
}
