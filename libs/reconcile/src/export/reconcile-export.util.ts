import { Workbook, type Worksheet } from 'exceljs';
import type { FindingKind } from '../reconcile.types';
import type { ReconcileRunView } from '../run/reconcile-run.types';
import type { StoredFinding } from '../run/reconcile-run.store';

/**
 * A run's findings as a file a finance or ERP team opens in Excel: a summary sheet, then one sheet
 * per finding class (every class, an empty one says "none"), Chinese headers, and every value a
 * text cell — bill and order numbers such as `0012345` keep their zeros and never turn into numbers
 * or dates. The CSV holds the same rows in one table with a 类别 column, UTF-8 with a BOM.
 */

export const FINDING_LABELS: Record<FindingKind, string> = {
  matched: '一致',
  missing_in_erp: '金蝶缺单',
  duplicated_in_erp: '金蝶重复单',
  extra_in_erp: '金蝶多出单',
  differs: '内容不一致',
  trail_disagrees: '审计轨迹矛盾',
};

const CAUSE_LABELS: Record<string, string> = {
  waiting: '处理中',
  failed: '导入失败',
  skipped: '已跳过',
  closed: '已关闭',
  never_seen: '从未同步',
  unexplained: '轨迹称已导入',
  no_order: '无对应订单',
  not_eligible: '订单不应生成单据',
};

const LISTED_KINDS: readonly Exclude<FindingKind, 'matched'>[] = [
  'missing_in_erp',
  'duplicated_in_erp',
  'extra_in_erp',
  'differs',
  'trail_disagrees',
];

/** One row of the export (a `differs` finding gives one row per differing field). */
export interface ReconcileExportRow {
  kind: FindingKind;
  key: string;
  orderNo: string;
  billNumbers: string;
  cause: string;
  trailStatus: string;
  field: string;
  expected: string;
  actual: string;
  detail: string;
  repushState: string;
  repushResult: string;
}

export const EXPORT_COLUMNS: ReadonlyArray<{ key: keyof ReconcileExportRow; header: string; width: number }> =
  [
    { key: 'key', header: '单据键', width: 22 },
    { key: 'orderNo', header: '订单号', width: 22 },
    { key: 'billNumbers', header: '金蝶单据编号', width: 26 },
    { key: 'cause', header: '原因', width: 18 },
    { key: 'trailStatus', header: '审计状态', width: 14 },
    { key: 'field', header: '字段', width: 28 },
    { key: 'expected', header: '期望值', width: 16 },
    { key: 'actual', header: '金蝶值', width: 16 },
    { key: 'detail', header: '说明', width: 60 },
    { key: 'repushState', header: '补推状态', width: 10 },
    { key: 'repushResult', header: '补推结果', width: 60 },
  ];

function detailText(f: StoredFinding): string {
  const d = f.detail;
  switch (d.kind) {
    case 'missing_in_erp':
      return d.trailReason ? `审计轨迹: ${d.trailReason}` : '';
    case 'duplicated_in_erp':
      return `${d.bills.length} 张单据携带同一单据键，请在金蝶中核对（不会自动删除）`;
    case 'extra_in_erp':
      return d.sourceReason ? `订单跳过原因: ${d.sourceReason}` : '期间内无对应的旺店通订单（不会自动删除）';
    case 'trail_disagrees':
      return d.detail;
    default:
      return '';
  }
}

/** The rows of a run's findings, in the order given (the run's key order). */
export function reconcileExportRows(findings: readonly StoredFinding[]): ReconcileExportRow[] {
  const rows: ReconcileExportRow[] = [];
  for (const f of findings) {
    const base: ReconcileExportRow = {
      kind: f.kind,
      key: f.billKey,
      orderNo: f.orderNo ?? '',
      billNumbers: f.billNumbers.join(', '),
      cause: f.cause ? (CAUSE_LABELS[f.cause] ?? f.cause) : '',
      trailStatus: f.trailStatus ?? '',
      field: '',
      expected: '',
      actual: '',
      detail: detailText(f),
      repushState: f.repushState ?? '',
      repushResult: f.repushResult ?? '',
    };
    if (f.detail.kind === 'differs' && f.detail.differences.length > 0) {
      for (const d of f.detail.differences)
        rows.push({ ...base, field: d.field, expected: d.expected ?? '', actual: d.actual ?? '' });
    } else rows.push(base);
  }
  return rows;
}

function textColumns(sheet: Worksheet, columns: ReadonlyArray<{ header: string; width: number }>): void {
  sheet.columns = columns.map((c) => ({ header: c.header, width: c.width, style: { numFmt: '@' } }));
  sheet.getRow(1).font = { bold: true };
  sheet.views = [{ state: 'frozen', ySplit: 1 }];
}

/** Every cell a string: exceljs writes strings as text cells whatever they look like. */
function addTextRow(sheet: Worksheet, values: readonly string[]): void {
  const row = sheet.addRow(values.map((v) => String(v)));
  row.eachCell((cell) => {
    cell.numFmt = '@';
  });
}

export function reconcileFileName(run: ReconcileRunView, format: 'xlsx' | 'csv'): string {
  const day = (text: string) => text.slice(0, 10).replace(/-/g, '');
  return `reconcile-${run.schemeId}-${day(run.periodFrom)}-${day(run.periodTo)}.${format}`;
}

export function reconcileWorkbook(run: ReconcileRunView, findings: readonly StoredFinding[]): Workbook {
  const wb = new Workbook();
  const summary = wb.addWorksheet('汇总');
  textColumns(summary, [
    { header: '项目', width: 20 },
    { header: '值', width: 44 },
  ]);
  const counts = run.counts;
  const lines: Array<[string, string]> = [
    ['对账编号', run.id],
    ['方案', run.schemeId],
    ['期间开始', run.periodFrom],
    ['期间结束', run.periodTo],
    ['触发方式', run.trigger],
    ['状态', run.state],
    ['开始时间', run.startedAt ?? ''],
    ['结束时间', run.finishedAt ?? ''],
    ...(['matched', ...LISTED_KINDS] as FindingKind[]).map((k): [string, string] => [
      FINDING_LABELS[k],
      counts ? String(counts[k]) : '',
    ]),
  ];
  if (run.error) lines.push(['错误', run.error]);
  for (const [name, value] of lines) addTextRow(summary, [name, value]);

  const rows = reconcileExportRows(findings);
  for (const kind of LISTED_KINDS) {
    const sheet = wb.addWorksheet(FINDING_LABELS[kind]);
    textColumns(sheet, EXPORT_COLUMNS);
    for (const row of rows.filter((r) => r.kind === kind))
      addTextRow(
        sheet,
        EXPORT_COLUMNS.map((c) => row[c.key]),
      );
  }
  return wb;
}

/** RFC 4180 quoting: every field quoted, quotes doubled (numbers stay text when Excel opens it). */
function csvField(v: string): string {
  return `"${v.replace(/"/g, '""')}"`;
}

export function reconcileCsv(findings: readonly StoredFinding[]): Buffer {
  const header = ['类别', ...EXPORT_COLUMNS.map((c) => c.header)];
  const lines = [header.map(csvField).join(',')];
  for (const row of reconcileExportRows(findings))
    lines.push([FINDING_LABELS[row.kind], ...EXPORT_COLUMNS.map((c) => row[c.key])].map(csvField).join(','));
  return Buffer.concat([Buffer.from('\uFEFF', 'utf8'), Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8')]);
}
