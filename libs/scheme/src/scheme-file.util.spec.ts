import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { SchemeError, type SchemeIssue } from './scheme.errors';
import { loadSchemeFile, loadSchemesFromDir, parseScheme } from './scheme-file.util';
import { schemeJsonSchema } from './scheme-json-schema.util';
import {
  REPO_ROOT,
  SCHEME_JSON_SCHEMA_FILE,
  SHIPPED_SCHEME_FILE,
  schemeYaml,
} from '../../../test/support/scheme/scheme-fixtures.util';

/** The issues of a failing parse (fails the test if it parses). */
function issuesOf(text: string, file = 'broken.yaml'): SchemeIssue[] {
  try {
    parseScheme(text, file);
  } catch (e) {
    if (e instanceof SchemeError) return [...e.issues];
    throw e;
  }
  throw new Error('expected the scheme to be rejected');
}

/** 1-based line of the first line containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`no line contains ${needle}`);
  return i + 1;
}

function expectIssue(issues: SchemeIssue[], pathText: string, message: RegExp, line?: number): SchemeIssue {
  const found = issues.find((i) => i.path === pathText && message.test(i.message));
  if (!found)
    throw new Error(`no issue at ${pathText} matching ${message}; got:\n${JSON.stringify(issues, null, 2)}`);
  if (line !== undefined) expect(found.line).toBe(line);
  expect(found.file).toBe('broken.yaml');
  return found;
}

describe('the shipped scheme', () => {
  it('loads and expresses the seed mapping', () => {
    const s = loadSchemeFile(SHIPPED_SCHEME_FILE);
    expect(s.id).toBe('wdt-stockout-return-to-kingdee-pur-mrb');
    expect(s.enabled).toBe(true);
    expect(s.retry.count).toBe(3);
    expect(s.target).toMatchObject({
      formId: 'PUR_MRB',
      operation: 'BatchSave',
      submitMode: 'auto',
      requestOptions: { IsAutoSubmitAndAudit: true, IsVerifyBaseDataField: false, SubSystemId: '21' },
      idempotencyKey: { field: 'FBillNo', source: '{{order_no}}' },
    });
    expect(Object.keys(s.mapping.header)).toEqual([
      'FBillNo',
      'FDate',
      'FSupplierID',
      'FMRMODE',
      'FStockOrgId',
      'FSettleOrgId',
      'FPayOrgId',
      'FOwnerIdHead',
    ]);
    expect(s.mapping.entries).toHaveLength(1);
    expect(s.mapping.entries[0].path).toBe('FPURMRBENTRY');
    expect(Object.keys(s.mapping.entries[0].fields)).toEqual([
      'FMATERIALID',
      'FRMREALQTY',
      'FSTOCKID',
      'FOWNERID',
      'FOWNERTYPEID',
    ]);
    expect(s.valueMaps.suppliers.onMissing).toBe('passthrough');
    expect(s.valueMaps.warehouses.onMissing).toBe('passthrough');
    expect(s.preconditions.map((p) => p.name)).toEqual([
      'not-cancelled',
      'shipped-or-completed',
      'has-goods-lines',
    ]);
  });

  it('reads the same from JSON as from YAML', () => {
    const text = fs.readFileSync(SHIPPED_SCHEME_FILE, 'utf8');
    const asJson = JSON.stringify(YAML.parse(text), null, 2);
    expect(parseScheme(asJson, 'same.json')).toEqual(loadSchemeFile(SHIPPED_SCHEME_FILE));
  });

  it('is the only scheme of schemes/ and the JSON Schema file is skipped', () => {
    const all = loadSchemesFromDir(path.join(REPO_ROOT, 'schemes'));
    expect(all.map((s) => s.id)).toEqual(['wdt-stockout-return-to-kingdee-pur-mrb']);
  });
});

describe('scheme.schema.json', () => {
  it('matches the zod schema (regenerate with npm run scheme:json-schema)', () => {
    const committed = JSON.parse(fs.readFileSync(SCHEME_JSON_SCHEMA_FILE, 'utf8')) as unknown;
    expect(committed).toEqual(schemeJsonSchema());
  });

  it('rejects unknown keys and names the required top-level keys', () => {
    const js = schemeJsonSchema() as { additionalProperties: boolean; required: string[] };
    expect(js.additionalProperties).toBe(false);
    expect(js.required).toEqual(['id', 'name', 'source', 'target', 'mapping']);
  });
});

describe('parseScheme errors name file, line and path', () => {
  it('accepts the test base scheme', () => {
    expect(parseScheme(schemeYaml(), 'ok.yaml').id).toBe('test-scheme');
  });

  it('bad YAML', () => {
    const text = schemeYaml({ extra: 'schedule: { pollInterval: 5s' });
    const issues = issuesOf(text);
    expect(issues[0].path).toBe('(yaml)');
    expect(issues[0].message).toMatch(/^YAML: /);
    expect(issues[0].line).toBeGreaterThanOrEqual(lineOf(text, 'schedule:'));
  });

  it('duplicate keys', () => {
    const text = schemeYaml({ extra: 'name: again' });
    expect(issuesOf(text)[0]).toMatchObject({ path: '(yaml)', line: lineOf(text, 'name: again') });
  });

  it('an unknown field, with a suggestion', () => {
    const header = '    FBillNo: { template: "{{order_no}}" }\n    FDate: { tempalte: "{{consign_time}}" }';
    const text = schemeYaml({ header });
    const issue = expectIssue(
      issuesOf(text),
      'mapping.header.FDate.tempalte',
      /unknown key "tempalte" — did you mean template\?/,
      lineOf(text, 'tempalte'),
    );
    expect(issue.col).toBe(text.split('\n')[issue.line! - 1].indexOf('tempalte') + 1);
  });

  it('a typo does not hide the other problems of the file', () => {
    const header = [
      '    FBillNo: { template: "{{order_no}}" }',
      '    FDate: { tempalte: "{{consign_time}}" }',
      '    FX: { formula: "$sum(details_list.goods_count" }',
      '    FS: { template: "{{provider_no}}", valueMap: nowhere }',
    ].join('\n');
    const text = schemeYaml({ header, extra: 'schedule: { transferTime: "61 * * * *" }' });
    const issues = issuesOf(text);
    expect(issues.map((i) => i.path)).toEqual([
      'mapping.header.FDate',
      'mapping.header.FDate.tempalte',
      'mapping.header.FX.formula',
      'mapping.header.FS.valueMap',
      'schedule.transferTime',
    ]);
    expect(issues.map((i) => i.line)).toEqual([14, 14, 15, 16, lineOf(text, 'transferTime')]);
  });

  it('an unknown top-level key lists the allowed keys', () => {
    const text = schemeYaml({ extra: 'colour: blue' });
    expectIssue(
      issuesOf(text),
      'colour',
      /unknown key "colour" \(allowed: .*preconditions/,
      lineOf(text, 'colour'),
    );
  });

  it('a formula that does not compile', () => {
    const header =
      '    FBillNo: { template: "{{order_no}}" }\n    FNote: { formula: "$sum(details_list.goods_count" }';
    const text = schemeYaml({ header });
    expectIssue(
      issuesOf(text),
      'mapping.header.FNote.formula',
      /formula does not compile/,
      lineOf(text, 'FNote'),
    );
  });

  it('a formula calling an unknown function, or $eval, or $line outside entries', () => {
    const header = [
      '    FBillNo: { template: "{{order_no}}" }',
      '    FA: { formula: "$sumx(details_list.goods_count)" }',
      '    FB: { formula: "$eval(remark)" }',
      '    FC: { formula: "$line.spec_no" }',
      '    FD: { formula: "($f := function($x) { $x & \'!\' }; $f(remark))" }',
    ].join('\n');
    const text = schemeYaml({ header });
    const issues = issuesOf(text);
    expectIssue(issues, 'mapping.header.FA.formula', /unknown function \$sumx/, lineOf(text, 'FA:'));
    expectIssue(issues, 'mapping.header.FB.formula', /\$eval, which is disabled/, lineOf(text, 'FB:'));
    expectIssue(issues, 'mapping.header.FC.formula', /\$line, which is only bound inside entries/);
    expect(issues.some((i) => i.path.startsWith('mapping.header.FD'))).toBe(false);
  });

  it('a missing value map', () => {
    const header =
      '    FBillNo: { template: "{{order_no}}" }\n    FStock: { template: "{{warehouse_no}}", valueMap: warehouses }';
    const text = schemeYaml({ header });
    expectIssue(
      issuesOf(text),
      'mapping.header.FStock.valueMap',
      /value map "warehouses" is not defined under valueMaps \(defined: suppliers\)/,
      lineOf(text, 'FStock'),
    );
  });

  it('a bad cron expression, a 4-field cron, a bad time zone', () => {
    let text = schemeYaml({ extra: 'schedule: { transferTime: "61 * * * *" }' });
    expectIssue(issuesOf(text), 'schedule.transferTime', /does not parse.*61/, lineOf(text, 'transferTime'));
    text = schemeYaml({ extra: 'schedule: { transferTime: "* * * *" }' });
    expectIssue(issuesOf(text), 'schedule.transferTime', /must have 5 fields/);
    text = schemeYaml({ extra: 'schedule: { timezone: Mars/Olympus }' });
    expectIssue(issuesOf(text), 'schedule.timezone', /unknown time zone/);
  });

  it('a bad duration', () => {
    const text = schemeYaml({ extra: 'schedule: { pollInterval: 5 seconds }' });
    expectIssue(issuesOf(text), 'schedule.pollInterval', /must be a duration/, lineOf(text, 'pollInterval'));
  });

  it('a constant that does not convert to its type', () => {
    const header = '    FBillNo: { template: "{{order_no}}" }\n    FQty: { const: "1e3", type: decimal }';
    const text = schemeYaml({ header });
    expectIssue(
      issuesOf(text),
      'mapping.header.FQty.const',
      /"1e3" is not a plain decimal number/,
      lineOf(text, 'FQty'),
    );
  });

  it('a field with two value sources, or none', () => {
    const header = [
      '    FBillNo: { template: "{{order_no}}" }',
      '    FA: { template: "{{x}}", const: "y" }',
      '    FB: { type: ref }',
    ].join('\n');
    const issues = issuesOf(schemeYaml({ header }));
    expectIssue(
      issues,
      'mapping.header.FA',
      /exactly one of template, const, formula \(found template, const\)/,
    );
    expectIssue(issues, 'mapping.header.FB', /exactly one of template, const, formula \(none given\)/);
  });

  it('a header template reading goods lines, a line template naming the whole array', () => {
    const header =
      '    FBillNo: { template: "{{order_no}}" }\n    FX: { template: "{{details_list.spec_no}}" }';
    const fields = '        FY: { template: "{{details_list}}" }';
    const issues = issuesOf(schemeYaml({ header, fields }));
    expectIssue(issues, 'mapping.header.FX.template', /reads goods lines.*use a formula/);
    expectIssue(issues, 'mapping.entries[0].fields.FY.template', /whole line array/);
  });

  it('a template with a syntax error or a forbidden key', () => {
    const header = [
      '    FBillNo: { template: "{{order_no}}" }',
      '    FA: { template: "{{order_no" }',
      '    FB: { template: "{{__proto__.x}}" }',
      '    FC: { template: "{{a + b}}" }',
    ].join('\n');
    const issues = issuesOf(schemeYaml({ header }));
    expectIssue(issues, 'mapping.header.FA.template', /unclosed "\{\{"/);
    expectIssue(issues, 'mapping.header.FB.template', /forbidden key "__proto__"/);
    expectIssue(issues, 'mapping.header.FC.template', /not a dotted path/);
  });

  it('target paths that collide', () => {
    const header = [
      '    FBillNo: { template: "{{order_no}}" }',
      '    FSettleOrgId: { const: "101", type: ref, target: FPURMRBFIN.FSettleOrgId }',
      '    FFin: { const: "x", target: FPURMRBFIN }',
      '    FOther: { const: "x", target: FBillNo }',
    ].join('\n');
    const issues = issuesOf(schemeYaml({ header }));
    expectIssue(issues, 'mapping.header.FFin', /target FPURMRBFIN overlaps FPURMRBFIN.FSettleOrgId/);
    expectIssue(
      issues,
      'mapping.header.FOther',
      /target FBillNo is already written by mapping.header.FBillNo/,
    );
  });

  it('value maps: default policy without a default; forbidden keys; numbers YAML would mangle', () => {
    const valueMaps = [
      '  suppliers: { onMissing: default, entries: { GYS001: VEN0001 } }',
      '  warehouses: { entries: { 001: SH01, __proto__: X } }',
    ].join('\n');
    const text = schemeYaml({ valueMaps });
    const issues = issuesOf(text);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: '(yaml)',
          line: lineOf(text, 'warehouses'),
          message: expect.stringMatching(/YAML reads 001 as the number 1; write "001" in quotes/),
        }),
        expect.objectContaining({
          path: '(yaml)',
          message: expect.stringMatching(/the key "__proto__" is not allowed/),
        }),
      ]),
    );
  });

  it('value maps: onMissing default needs a default', () => {
    const text = schemeYaml({
      valueMaps: '  suppliers: { onMissing: default, entries: { GYS001: VEN0001 } }',
    });
    expectIssue(
      issuesOf(text),
      'valueMaps.suppliers.default',
      /needs a default value/,
      lineOf(text, 'suppliers'),
    );
  });

  it('preconditions: no operator, two operators, both forms, duplicate names', () => {
    const preconditions = [
      '  - { name: a, field: status }',
      '  - { name: b, field: status, in: ["95"], notIn: ["5"] }',
      '  - { name: c, field: status, in: ["95"], formula: "true" }',
      '  - { name: c, formula: "status = \'95\'" }',
    ].join('\n');
    const issues = issuesOf(schemeYaml({ preconditions }));
    expectIssue(issues, 'preconditions[0]', /exactly one operator .* \(found none\)/);
    expectIssue(issues, 'preconditions[1]', /exactly one operator .* \(found in, notIn\)/);
    expectIssue(issues, 'preconditions[2]', /either a formula or a field/);
    expectIssue(issues, 'preconditions[3].name', /used twice/);
  });

  it('the idempotency key must be written by a header field', () => {
    const header = '    FDate: { template: "{{consign_time}}", type: datetime }';
    expectIssue(
      issuesOf(schemeYaml({ header })),
      'target.idempotencyKey.field',
      /no header field writes FBillNo/,
    );
  });

  it('target options that contradict each other', () => {
    const text = schemeYaml().replace(
      '  formId: PUR_MRB',
      '  formId: PUR_MRB\n  submitMode: separate\n  operation: Save',
    );
    const issues = issuesOf(text);
    expectIssue(issues, 'target.requestOptions.IsAutoSubmitAndAudit', /must not be true/);
    expectIssue(issues, 'target.batchSize', /batchSize must be 1/);
  });

  it('source: Qimen page size, window over 30 days, axis against status, params', () => {
    const text = schemeYaml().replace(
      '  method: wdt.stockout.order.query.return',
      [
        '  method: wdt.stockout.order.query.return',
        '  gateway: qimen',
        '  pageSize: 50',
        '  filters: { status: "55" }',
        '  cursor: { axis: consign_time, maxWindow: 31d, initial: "2026-13-01 00:00:00" }',
        '  params: { start_time: "{{LAST_SYNC}}", sign: "x" }',
      ].join('\n'),
    );
    const issues = issuesOf(text);
    expectIssue(issues, 'source.pageSize', /allows page_size 1–30/, lineOf(text, 'pageSize'));
    expectIssue(issues, 'source.cursor.maxWindow', /at most 30 days/);
    expectIssue(issues, 'source.cursor.axis', /with status 55 WDT filters the window on modified/);
    expectIssue(issues, 'source.cursor.initial', /not a Shanghai wall-clock time/);
    expectIssue(issues, 'source.params.start_time', /\{\{LAST_SYNC\}\} is not a source variable/);
    expectIssue(issues, 'source.params.sign', /set by the WDT client itself/);
  });

  it('a missing required key', () => {
    const text = schemeYaml().replace('name: test\n', '');
    expectIssue(issuesOf(text), 'name', /is required/);
  });

  it('wrong types and enum values', () => {
    const header = '    FBillNo: { template: "{{order_no}}", type: money, required: "yes" }';
    const issues = issuesOf(schemeYaml({ header }));
    expectIssue(issues, 'mapping.header.FBillNo.type', /expected one of "string"\|"ref"/);
    expectIssue(issues, 'mapping.header.FBillNo.required', /expected boolean/);
  });

  it('a second YAML document, and a root that is not a mapping', () => {
    const text = `${schemeYaml()}\n---\nid: other\n`;
    expectIssue(issuesOf(text), '(yaml)', /one scheme per file/, lineOf(text, '---'));
    expectIssue(issuesOf('- a\n- b\n'), '(root)', /a scheme is a mapping/);
    expectIssue(issuesOf(''), '(root)', /holds no scheme/);
  });

  it('JSON syntax errors carry line and column', () => {
    let issues = issuesOf('{\n  "id": "x",\n  "name": }\n', 'broken.json');
    expect(issues[0]).toMatchObject({ file: 'broken.json', path: '(json)', line: 3, col: 11 });
    expect(issues[0].message).toMatch(/invalid JSON/);
    issues = issuesOf('{\n  "id": "x",\n  "name": "y",\n}\n', 'broken.json');
    expect(issues[0]).toMatchObject({ file: 'broken.json', path: '(json)', line: 4 });
    issues = issuesOf('{\n  "id": "x",\n  "name": [1, 2\n}\n', 'broken.json');
    expect(issues[0]).toMatchObject({ file: 'broken.json', line: expect.any(Number) });
  });

  it('the error message lists every issue as file:line:col path: message', () => {
    const header = '    FBillNo: { template: "{{order_no}}" }\n    FDate: { tempalte: "{{consign_time}}" }';
    const text = schemeYaml({ header, extra: 'colour: blue' });
    try {
      parseScheme(text, 'schemes/x.yaml');
      throw new Error('expected failure');
    } catch (e) {
      expect(e).toBeInstanceOf(SchemeError);
      const msg = (e as Error).message;
      expect(msg).toContain(`schemes/x.yaml:${lineOf(text, 'tempalte')}:`);
      expect(msg).toMatch(/mapping\.header\.FDate\.tempalte: unknown key "tempalte"/);
      expect(msg).toMatch(/colour: unknown key "colour"/);
    }
  });
});

describe('loadSchemesFromDir / loadSchemeFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'schemes-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('rejects duplicate ids across files, naming the second file', () => {
    fs.writeFileSync(path.join(dir, 'a.yaml'), schemeYaml());
    fs.writeFileSync(path.join(dir, 'b.yml'), schemeYaml());
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a scheme');
    try {
      loadSchemesFromDir(dir);
      throw new Error('expected failure');
    } catch (e) {
      expect(e).toBeInstanceOf(SchemeError);
      expect((e as SchemeError).issues).toEqual([
        expect.objectContaining({
          file: path.join(dir, 'b.yml'),
          line: 1,
          path: 'id',
          message: expect.stringMatching(/already used/),
        }),
      ]);
    }
  });

  it('collects the problems of every file', () => {
    fs.writeFileSync(path.join(dir, 'a.yaml'), schemeYaml({ extra: 'colour: blue' }));
    fs.writeFileSync(path.join(dir, 'b.json'), '{');
    try {
      loadSchemesFromDir(dir);
      throw new Error('expected failure');
    } catch (e) {
      const files = new Set((e as SchemeError).issues.map((i) => path.basename(i.file)));
      expect(files).toEqual(new Set(['a.yaml', 'b.json']));
    }
  });

  it('a file that cannot be read', () => {
    expect(() => loadSchemeFile(path.join(dir, 'missing.yaml'))).toThrow(
      /missing\.yaml \(file\): cannot read/,
    );
  });
});
