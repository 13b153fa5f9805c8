import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  MAPPING_FIXTURES,
  REPO_ROOT,
  SHIPPED_SCHEME_FILE,
  readFixture,
  schemeYaml,
} from '../../../../test/support/scheme/scheme-fixtures.util';
import type { CliIo } from './cli-io.util';
import { idempotencyNote, runSchemeCheck, runSchemeCheckCli } from './scheme-check.command';
import type { ConnectionsOutline } from '../scheme-connections.util';
import { loadSchemeFile } from '../scheme-file.util';
import { pickRecord, runSchemePreview } from './scheme-preview.command';

function collect(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

describe('scheme:check', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scheme-check-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exit 0 and a summary for the shipped scheme and for schemes/', () => {
    const io = collect();
    expect(runSchemeCheck([SHIPPED_SCHEME_FILE, path.join(REPO_ROOT, 'schemes')], io)).toBe(0);
    expect(io.stderr).toEqual([]);
    expect(io.stdout).toHaveLength(4);
    expect(io.stdout[0]).toMatch(
      /^ok .*wdt-stockout-return-to-kingdee-pur-mrb\.yaml: wdt-stockout-return-to-kingdee-pur-mrb \(enabled; PUR_MRB BatchSave; 8 header fields, FPURMRBENTRY×5; 3 preconditions; no formulas\)$/,
    );
    // The key choice is explained: FBillNo and what a numbering rule does to it.
    expect(io.stdout[1]).toMatch(/note: the idempotency key is FBillNo.*numbering rule.*FDESCRIPTION/);
  });

  it('explains a key Kingdee keeps (FDESCRIPTION) and lookupBeforeWrite: always', () => {
    const scheme = loadSchemeFile(SHIPPED_SCHEME_FILE);
    const note = idempotencyNote({
      ...scheme,
      target: {
        ...scheme.target,
        idempotencyKey: { field: 'FDESCRIPTION', source: '{{order_no}}' },
        lookupBeforeWrite: 'always',
      },
    });
    expect(note).toMatch(/FDESCRIPTION: every BatchSave is preceded by a look-up/);
    expect(note).toMatch(/numbering rules on FBillNo do not matter/);
  });

  it('exit 1 with file:line:col path: message for each problem', () => {
    const file = path.join(dir, 'broken.yaml');
    fs.writeFileSync(
      file,
      schemeYaml({
        header: '    FBillNo: { template: "{{order_no}}" }\n    FDate: { formula: "$bad(" }',
        extra: 'schedule: { transferTime: "99 * * * *" }',
      }),
    );
    const io = collect();
    expect(runSchemeCheck([file], io)).toBe(1);
    expect(io.stdout).toEqual([]);
    expect(io.stderr).toEqual([
      expect.stringMatching(
        new RegExp(`^${file}:14:\\d+ mapping\\.header\\.FDate\\.formula: formula does not compile`),
      ),
      expect.stringMatching(
        new RegExp(
          `^${file}:25:\\d+ schedule\\.transferTime: cron expression "99 \\* \\* \\* \\*" does not parse`,
        ),
      ),
    ]);
  });

  it('exit 1 for a missing file and for no arguments', () => {
    const io = collect();
    expect(runSchemeCheck([path.join(dir, 'nope.yaml')], io)).toBe(1);
    expect(io.stderr[0]).toMatch(/nope\.yaml \(file\): cannot read/);
    expect(runSchemeCheck([], collect())).toBe(1);
  });
});

describe('scheme:preview', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scheme-preview-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, data: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof data === 'string' ? data : JSON.stringify(data));
    return file;
  };
  const golden = () => JSON.parse(readFixture('golden-record.verbatim.txt')) as Record<string, unknown>;

  it('prints the BatchSave request of the golden record (exit 0)', async () => {
    const io = collect();
    const code = await runSchemePreview(
      SHIPPED_SCHEME_FILE,
      path.join(MAPPING_FIXTURES, 'golden-record.verbatim.txt'),
      {},
      io,
    );
    expect(code).toBe(0);
    expect(JSON.parse(io.stdout.join('\n'))).toEqual(JSON.parse(readFixture('golden-request.verbatim.txt')));
    expect(io.stderr).toEqual(['# wdt-stockout-return-to-kingdee-pur-mrb: bill CT2026112800012']);
  });

  it('picks a record out of a WDT response', async () => {
    const other = { ...golden(), order_no: 'CT2' };
    const file = write('response.json', { code: 0, total_count: '2', stockout_list: [golden(), other] });
    const io = collect();
    expect(await runSchemePreview(SHIPPED_SCHEME_FILE, file, { index: 1 }, io)).toBe(0);
    expect(io.stdout.join('\n')).toContain('"FBillNo": "CT2"');
    expect(await runSchemePreview(SHIPPED_SCHEME_FILE, file, { index: 5 }, collect())).toBe(1);
  });

  it('prints the skip reason (exit 3)', async () => {
    const io = collect();
    expect(
      await runSchemePreview(SHIPPED_SCHEME_FILE, write('r.json', { ...golden(), status: '5' }), {}, io),
    ).toBe(3);
    expect(io.stdout).toEqual([
      'skipped CT2026112800012 by precondition not-cancelled: order is cancelled (status 5)',
    ]);
  });

  it('prints the mapping error (exit 2)', async () => {
    const record = golden();
    (record.details_list as Array<Record<string, unknown>>)[0].goods_count = '1e400';
    const io = collect();
    expect(await runSchemePreview(SHIPPED_SCHEME_FILE, write('r.json', record), {}, io)).toBe(2);
    expect(io.stdout).toEqual([
      'mapping error [bad_decimal] bill CT2026112800012 FPURMRBENTRY[0].FRMREALQTY: details_list[0].goods_count "1e400" is not a plain decimal number like "2.0000"',
    ]);
  });

  it('exit 1 for a broken scheme or an unreadable record', async () => {
    const io = collect();
    expect(await runSchemePreview(write('s.yaml', 'id: [\n'), write('r.json', golden()), {}, io)).toBe(1);
    expect(io.stderr[0]).toMatch(/s\.yaml:\d+:\d+ \(yaml\): YAML:/);
    const io2 = collect();
    expect(await runSchemePreview(SHIPPED_SCHEME_FILE, write('bad.json', '{"order_no":'), {}, io2)).toBe(1);
    expect(io2.stderr[0]).toMatch(/bad\.json: /);
  });

  it('pickRecord understands records, arrays and both response envelopes', () => {
    const r = { order_no: 'A' };
    expect(pickRecord(r, 0)).toBe(r);
    expect(pickRecord([r], 0)).toBe(r);
    expect(pickRecord({ stockout_list: [r] }, 0)).toBe(r);
    expect(pickRecord({ response: { stockout_list: [r] } }, 0)).toBe(r);
  });
});

describe('scheme:check with connections', () => {
  const MULTI = path.join(REPO_ROOT, 'examples/schemes-multi-shop');
  const OUTLINE: ConnectionsOutline = {
    wdt: {
      'shop-a': { sid: 'shop-a-sid', gateway: 'native', budgetKey: 'native:a' },
      'shop-b': { sid: 'shop-b-sid', gateway: 'native', budgetKey: 'native:b' },
      'shop-c': { sid: 'shop-c-sid', gateway: 'qimen', budgetKey: 'qimen:q' },
    },
    kingdee: { 'acct-main': { account: 'erp/#main' }, 'acct-second': { account: 'erp/#second' } },
  };
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scheme-check-conn-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('checks the multi-shop example against the connections (exit 0)', () => {
    const io = collect();
    expect(runSchemeCheck([MULTI], io, { outline: OUTLINE, outlineSource: 'connections.yaml' })).toBe(0);
    expect(io.stderr).toEqual([]);
    expect(io.stdout.filter((l) => l.startsWith('ok '))).toEqual([
      expect.stringMatching(
        /^ok .*shop-a\.yaml: shop-a-pur-mrb \(enabled; PUR_MRB BatchSave; 9 header fields/,
      ),
      expect.stringMatching(/^ok .*shop-b\.yaml: shop-b-pur-mrb/),
      expect.stringMatching(/^ok .*shop-c\.yaml: shop-c-pur-mrb/),
      'ok connections: 3 scheme(s) checked against connections.yaml (WDT: shop-a, shop-b, shop-c; Kingdee: acct-main, acct-second)',
    ]);
    // Without an outline: the shape only (connection names are not known).
    const shapeOnly = collect();
    expect(runSchemeCheck([MULTI], shapeOnly)).toBe(0);
    expect(shapeOnly.stdout.some((l) => l.startsWith('ok connections'))).toBe(false);
  });

  it('refuses unknown connections and colliding keys across the files given, naming file and field', () => {
    const a = path.join(dir, 'a.yaml');
    const b = path.join(dir, 'b.yaml');
    const keyed = (id: string, src: string) =>
      schemeYaml()
        .replace('id: test-scheme', `id: ${id}`)
        .replace('  system: wdt', `  system: wdt\n  connection: ${src}`);
    fs.writeFileSync(a, keyed('scheme-a', 'shop-a'));
    fs.writeFileSync(b, keyed('scheme-b', 'shop-z'));
    const outline = { ...OUTLINE, kingdee: { default: { account: 'erp/#main' } } };
    const io = collect();
    expect(runSchemeCheck([a, b], io, { outline })).toBe(1);
    expect(io.stderr).toEqual([
      `${b} source.connection: scheme scheme-b: source.connection "shop-z" is not a WDT connection (known: shop-a, shop-b, shop-c)`,
    ]);
    fs.writeFileSync(b, keyed('scheme-b', 'shop-b'));
    const io2 = collect();
    expect(runSchemeCheck([dir], io2, { outline })).toBe(1);
    expect(io2.stderr).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${b} target\\.idempotencyKey\\.source: schemes scheme-a and scheme-b write Kingdee account erp/#main .*"\\{\\{order_no\\}\\}".*\\{\\{\\$sid\\}\\}-\\{\\{order_no\\}\\}`,
        ),
      ),
    ]);
    // Duplicate ids across the files given together.
    fs.writeFileSync(b, keyed('scheme-a', 'shop-b'));
    const io3 = collect();
    expect(runSchemeCheck([a, b], io3)).toBe(1);
    expect(io3.stderr).toEqual([`${b}:1:1 id: scheme id "scheme-a" is already used by ${a}`]);
  });

  it('--connections goes through the outline reader; without one it is refused, not ignored', () => {
    const calls: Array<{ file?: string }> = [];
    const io = collect();
    const code = runSchemeCheckCli([MULTI], { connections: 'conn.yaml' }, io, {
      env: { CONNECTIONS_FILE: 'other.yaml' },
      readOutline: (opts) => {
        calls.push({ file: opts.file });
        return OUTLINE;
      },
    });
    expect(code).toBe(0);
    expect(calls).toEqual([{ file: 'conn.yaml' }]);
    expect(io.stdout.at(-1)).toMatch(/^ok connections: 3 scheme\(s\) checked against conn\.yaml/);
    runSchemeCheckCli([MULTI], {}, collect(), {
      env: { CONNECTIONS_FILE: 'other.yaml' },
      readOutline: (opts) => {
        calls.push({ file: opts.file });
        return OUTLINE;
      },
    });
    expect(calls[1]).toEqual({ file: 'other.yaml' });
    const broken = collect();
    expect(
      runSchemeCheckCli([MULTI], {}, broken, {
        env: {},
        readOutline: () => {
          throw new Error('wdt.shop-a.sid: required');
        },
      }),
    ).toBe(1);
    expect(broken.stderr).toEqual(['scheme:check: connections: wdt.shop-a.sid: required']);
    const unwired = collect();
    expect(runSchemeCheckCli([MULTI], { connections: 'conn.yaml' }, unwired, { env: {} })).toBe(1);
    expect(unwired.stderr[0]).toMatch(/--connections conn\.yaml: this build cannot read connections files/);
    expect(runSchemeCheckCli([MULTI], {}, collect(), { env: {} })).toBe(0);
  });

  it('scheme:preview --sid fills {{$sid}}', async () => {
    const io = collect();
    const record = path.join(dir, 'r.json');
    fs.writeFileSync(record, readFixture('golden-record.verbatim.txt'));
    expect(await runSchemePreview(path.join(MULTI, 'shop-b.yaml'), record, { sid: 'shop-b-sid' }, io)).toBe(
      0,
    );
    expect(io.stderr).toEqual(['# shop-b-pur-mrb: bill shop-b-sid-CT2026112800012']);
    const noSid = collect();
    expect(await runSchemePreview(path.join(MULTI, 'shop-b.yaml'), record, {}, noSid)).toBe(2);
    expect(noSid.stdout[0]).toMatch(
      /^mapping error \[missing_required\] FBillNo: \{\{\$sid\}\} needs the sid/,
    );
  });
});
