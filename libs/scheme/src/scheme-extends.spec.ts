import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatSchemeIssue, SchemeError } from './scheme.errors';
import { checkSchemeConnections, type ConnectionsOutline } from './scheme-connections.util';
import {
  listSchemeFiles,
  loadSchemeFile,
  mergeSchemeData,
  readSchemesDir,
  type SchemeBaseRead,
} from './scheme-file.util';
import { REPO_ROOT } from '../../../test/support/scheme/scheme-fixtures.util';

export const MULTI_SHOP_DIR = path.join(REPO_ROOT, 'examples/schemes-multi-shop');

export const MULTI_SHOP_OUTLINE: ConnectionsOutline = {
  wdt: {
    'shop-a': { sid: 'shop-a-sid', gateway: 'native', budgetKey: 'native:shop-a-key' },
    'shop-b': { sid: 'shop-b-sid', gateway: 'native', budgetKey: 'native:shop-b-key' },
    'shop-c': { sid: 'shop-c-sid', gateway: 'qimen', budgetKey: 'qimen:qm-key' },
  },
  kingdee: {
    'acct-main': { account: 'erp.example.com/k3cloud/#main' },
    'acct-second': { account: 'erp.example.com/k3cloud/#second' },
  },
};

/** The issues of a scheme that does not load. */
function issuesOf(file: string) {
  try {
    loadSchemeFile(file);
  } catch (e) {
    if (e instanceof SchemeError) return e.issues;
    throw e;
  }
  throw new Error(`${file} loaded`);
}

const HEAD = [
  'source: { system: wdt, method: wdt.stockout.order.query.return }',
  'target:',
  '  system: kingdee',
  '  formId: PUR_MRB',
  '  idempotencyKey: { field: FBillNo, source: "{{order_no}}" }',
  'mapping:',
  '  header:',
  '    FBillNo: { template: "{{order_no}}", required: true }',
  '    FDate: { template: "{{consign_time}}", type: datetime }',
  'preconditions:',
  '  - { name: shipped, field: status, in: ["95", "110"] }',
  '  - { name: has-lines, field: details_list, minItems: 1 }',
].join('\n');

describe('extends', () => {
  let dir: string;
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scheme-extends-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads the multi-shop example: three schemes on one base, the base never a scheme', () => {
    expect(listSchemeFiles(MULTI_SHOP_DIR).map((f) => path.basename(f))).toEqual([
      'shop-a.yaml',
      'shop-b.yaml',
      'shop-c.yaml',
    ]);
    const entries = readSchemesDir(MULTI_SHOP_DIR);
    expect(entries.map((e) => [e.scheme.id, e.scheme.source.connection, e.scheme.target.connection])).toEqual(
      [
        ['shop-a-pur-mrb', 'shop-a', 'acct-main'],
        ['shop-b-pur-mrb', 'shop-b', 'acct-main'],
        ['shop-c-pur-mrb', 'shop-c', 'acct-second'],
      ],
    );
    for (const e of entries) {
      expect(e.bases).toEqual([
        { file: path.join(MULTI_SHOP_DIR, 'bases/pur-mrb.base.yaml'), sha256: expect.any(String) },
      ]);
      expect(e.scheme.extends).toBe('bases/pur-mrb.base.yaml');
      expect(e.scheme.target.idempotencyKey.source).toBe('{{$sid}}-{{order_no}}');
      expect(e.scheme.preconditions).toHaveLength(3);
    }
    const [a, b, c] = entries.map((e) => e.scheme);
    // Objects merge: shop-c overrides four organisation fields and keeps the base's others.
    expect(Object.keys(c.mapping.header)).toEqual(Object.keys(a.mapping.header));
    expect(c.mapping.header.FStockOrgId.const).toBe('201');
    expect(a.mapping.header.FStockOrgId.const).toBe('101');
    expect(c.source).toMatchObject({ gateway: 'qimen', method: 'wdt.stockout.order.query.return' });
    expect(b.valueMaps.warehouses.entries).toEqual({ 'WH-B01': 'CK002' });
    expect(a.valueMaps.warehouses.entries).toEqual({});
    expect(checkSchemeConnections([a, b, c], MULTI_SHOP_OUTLINE)).toEqual([]);
  });

  it('merges objects deeply; arrays and scalars of the scheme replace the base', () => {
    expect(
      mergeSchemeData(
        { a: { x: 1, y: [1, 2], z: { k: 'base' } }, b: 'base', c: [1] },
        { a: { y: [3], z: { k2: 'own' } }, b: 'own' },
      ),
    ).toEqual({ a: { x: 1, y: [3], z: { k: 'base', k2: 'own' } }, b: 'own', c: [1] });
    write('bases/b.yaml', HEAD);
    const file = write(
      's.yaml',
      [
        'extends: bases/b.yaml',
        'id: shop-x',
        'name: x',
        'source: { connection: shop-x }',
        'preconditions: [{ name: only, field: status, equals: "95" }]',
      ].join('\n'),
    );
    const s = loadSchemeFile(file);
    expect(s.preconditions.map((p) => p.name)).toEqual(['only']);
    expect(s.source).toMatchObject({ connection: 'shop-x', system: 'wdt' });
    expect(s.target.connection).toBe('default');
  });

  it('a base may extend another base (a chain), nearest first in basesRead', () => {
    write('bases/root.yaml', HEAD);
    write('bases/mid.yaml', 'extends: root.yaml\ndescription: mid\nschedule: { pollInterval: 5s }');
    const file = write('s.yaml', 'extends: bases/mid.yaml\nid: shop-x\nname: x\ndescription: own');
    const bases: SchemeBaseRead[] = [];
    const s = loadSchemeFile(file, { basesRead: bases });
    expect(s.description).toBe('own');
    expect(s.schedule.pollInterval).toBe('5s');
    expect(bases.map((b) => path.relative(dir, b.file))).toEqual(['bases/mid.yaml', 'bases/root.yaml']);
  });

  it('a problem inside the base names the scheme file (at extends) and the base file and line', () => {
    write(
      'bases/b.yaml',
      HEAD.replace('type: datetime }', 'type: datetime }\n    FNote: { formula: "$bad(" }'),
    );
    const file = write('s.yaml', '# a scheme\nextends: bases/b.yaml\nid: shop-x\nname: x');
    const issues = issuesOf(file);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      file,
      line: 2,
      path: 'mapping.header.FNote.formula',
      base: { file: path.join(dir, 'bases/b.yaml'), line: 10 },
    });
    expect(formatSchemeIssue(issues[0])).toMatch(
      new RegExp(
        `^${file}:2:1 mapping\\.header\\.FNote\\.formula: formula does not compile.*\\(in base ${path.join(dir, 'bases/b.yaml')}:10:\\d+\\)$`,
      ),
    );
  });

  it('a problem the scheme file brings is placed in the scheme file; unknown keys in the base name it', () => {
    write('bases/b.yaml', `${HEAD}\nretyr: { count: 2 }`);
    const file = write('s.yaml', 'extends: bases/b.yaml\nid: shop-x\nname: x\ntarget: { batchSize: 500 }');
    const issues = issuesOf(file).map(formatSchemeIssue);
    expect(issues).toEqual([
      expect.stringMatching(
        /s\.yaml:1:\d+ retyr: unknown key "retyr" — did you mean retry\? \(in base .*b\.yaml:13:1\)/,
      ),
      expect.stringMatching(/s\.yaml:4:\d+ target\.batchSize: /),
    ]);
  });

  it('a base alone need not be a scheme, but the merged result must be', () => {
    write('bases/b.yaml', 'description: only a description');
    const issues = issuesOf(write('s.yaml', 'extends: bases/b.yaml\nid: shop-x\nname: x'));
    expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(['source', 'target', 'mapping']));
    expect(issues.every((i) => i.file.endsWith('s.yaml'))).toBe(true);
  });

  it('refuses a cycle, naming the chain', () => {
    write('bases/a.yaml', 'extends: b.yaml');
    write('bases/b.yaml', 'extends: a.yaml');
    const file = write('s.yaml', 'extends: bases/a.yaml\nid: shop-x\nname: x');
    const [issue] = issuesOf(file);
    expect(issue.message).toContain(
      `extends cycle: ${file} → ${path.join(dir, 'bases/a.yaml')} → ${path.join(dir, 'bases/b.yaml')} → ${path.join(dir, 'bases/a.yaml')}`,
    );
    expect(issue.file).toBe(file);
    const self = write('self.yaml', 'extends: self.yaml\nid: shop-y\nname: y');
    expect(issuesOf(self)[0].message).toMatch(/leaves the schemes directory|extends cycle/);
  });

  it('keeps extends inside the schemes directory, relative, and readable', () => {
    const outside = path.join(path.dirname(dir), `${path.basename(dir)}-outside.yaml`);
    fs.writeFileSync(outside, HEAD);
    try {
      const escape = write('e.yaml', `extends: ../${path.basename(outside)}\nid: shop-x\nname: x`);
      expect(issuesOf(escape)[0]).toMatchObject({
        path: 'extends',
        line: 1,
        message: expect.stringContaining('leaves the schemes directory'),
      });
    } finally {
      fs.rmSync(outside, { force: true });
    }
    const abs = write('abs.yaml', `extends: ${path.join(dir, 'bases/x.yaml')}\nid: shop-x\nname: x`);
    expect(issuesOf(abs)[0].message).toMatch(/must be relative/);
    const missing = write('m.yaml', 'extends: bases/none.yaml\nid: shop-x\nname: x');
    expect(issuesOf(missing)[0].message).toMatch(/extends "bases\/none\.yaml": cannot read/);
    const txt = write('t.yaml', 'extends: bases/x.txt\nid: shop-x\nname: x');
    expect(issuesOf(txt)[0].message).toMatch(/\.yaml, \.yml or \.json/);
    // A base that leaves the directory from inside a subfolder is refused too.
    write('bases/up.yaml', `extends: ../../${path.basename(outside)}`);
    const up = write('u.yaml', 'extends: bases/up.yaml\nid: shop-x\nname: x');
    expect(issuesOf(up)[0].message).toMatch(/leaves the schemes directory.*\(in base .*up\.yaml:1:\d+\)/);
  });

  it('reports a base that is not YAML, naming both files', () => {
    write('bases/b.yaml', 'source: [\n');
    const file = write('s.yaml', 'extends: bases/b.yaml\nid: shop-x\nname: x');
    const [issue] = issuesOf(file);
    expect(issue.file).toBe(file);
    expect(issue.message).toMatch(/^YAML: .*\(in base .*bases\/b\.yaml:\d+:\d+\)$/);
  });
});
