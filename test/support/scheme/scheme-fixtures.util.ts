import * as fs from 'node:fs';
import * as path from 'node:path';

/** Paths and helpers shared by the scheme and mapping unit tests (not used at runtime). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const SHIPPED_SCHEME_FILE = path.join(
  REPO_ROOT,
  'schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml',
);
export const SCHEME_JSON_SCHEMA_FILE = path.join(REPO_ROOT, 'schemes/scheme.schema.json');
export const MAPPING_FIXTURES = path.join(REPO_ROOT, 'test/mapping/fixtures');

export function readFixture(name: string): string {
  return fs.readFileSync(path.join(MAPPING_FIXTURES, name), 'utf8');
}

/**
 * A small valid scheme as YAML text; `extra` lines are appended at the top level, and `header` /
 * `fields` / `preconditions` replace those blocks. Line numbers of the base text are stable.
 */
export function schemeYaml(
  parts: {
    header?: string;
    fields?: string;
    preconditions?: string;
    valueMaps?: string;
    extra?: string;
  } = {},
): string {
  return [
    'id: test-scheme',
    'name: test',
    'source:',
    '  system: wdt',
    '  method: wdt.stockout.order.query.return',
    'target:',
    '  system: kingdee',
    '  formId: PUR_MRB',
    '  requestOptions: { IsAutoSubmitAndAudit: true, IsVerifyBaseDataField: false, SubSystemId: "21" }',
    '  idempotencyKey: { field: FBillNo, source: "{{order_no}}" }',
    'mapping:',
    '  header:',
    parts.header ??
      [
        '    FBillNo: { template: "{{order_no}}", required: true }',
        '    FDate: { template: "{{consign_time}}", type: datetime }',
      ].join('\n'),
    '  entries:',
    '    - path: FPURMRBENTRY',
    '      source: details_list',
    '      sourceAliases: [detail_list]',
    '      fields:',
    parts.fields ?? '        FRMREALQTY: { template: "{{details_list.goods_count}}", type: decimal }',
    'valueMaps:',
    parts.valueMaps ?? '  suppliers: { onMissing: fail, entries: { GYS001: VEN0001 } }',
    'preconditions:',
    parts.preconditions ?? '  - { name: shipped, field: status, in: ["95", "110"] }',
    parts.extra ?? '',
  ].join('\n');
}
