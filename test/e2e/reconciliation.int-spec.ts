import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import { formatShanghai } from '@libs/common';
import { compileScheme } from '@libs/mapping';
import { loadSchemesFromDir } from '@libs/scheme';

import { StackRunner } from '@tools/devstack';
import { DataSource } from 'typeorm';
import { eventually } from '../support/test-env';

const run = promisify(execFile);
// The API's JSON, read loosely in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const root = resolve(__dirname, '../..');
const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';
const TOKEN = 'reconcile-e2e-operator-token-0123';

/**
 * Issue 12 on the whole stack as processes: orders loaded through the pipeline, then every kind of
 * discrepancy made by hand the way people make them (in Kingdee's client, and one trail row that
 * contradicts Kingdee), a reconciliation requested through the operator API and carried out by the
 * reconciler, the exact findings, the Excel export cell by cell, a re-push of the missing bill, and a
 * second run (from the CLI) that leaves only what needs a person.
 */
describe('reconciliation: Kingdee holds exactly the bills the WDT orders call for', () => {
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
  let stack: StackRunner;
  let ds: DataSource;
  let periodFrom: string;
  let periodTo: string;

  const ORDERS = ['RC-OK1', 'RC-OK2', 'RC-DEL', 'RC-DUP', 'RC-QTY', 'RC-UNAUD', 'RC-TRAIL'];

  const status = async (orderNo: string): Promise<string | undefined> =>
    (
      (await ds.query(`SELECT status FROM audit_orders WHERE scheme_id = $1 AND source_key = $2`, [
        SCHEME,
        orderNo,
      ])) as Array<{ status: string }>
    )[0]?.status;
  const billsOf = async (billNo: string): Promise<Array<{ FID: number; FBillNo: string }>> =>
    (await stack.kingdeeAdmin('GET', `/bills/by-number/${billNo}`)).items ?? [];
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.url('operator')}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const type = res.headers.get('content-type') ?? '';
    return {
      status: res.status,
      body: (type.includes('json') ? await res.json() : Buffer.from(await res.arrayBuffer())) as Json,
    };
  };
  const findingsOf = async (runId: string): Promise<Json[]> => {
    const res = await api('GET', `/api/reconciliations/${runId}/findings?limit=500`);
    expect(res.status).toBe(200);
    return res.body.items;
  };
  const runDone = async (runId: string): Promise<Json> => {
    let view: Json;
    await eventually(
      `run ${runId} done`,
      async () => {
        view = (await api('GET', `/api/reconciliations/${runId}`)).body;
        if (view.state === 'failed') throw new Error(`run failed: ${view.error}`);
        return view.state === 'done';
      },
      120_000,
    );
    return view;
  };
  const brief = (f: Json) => `${f.kind}:${f.key}`;

  beforeAll(async () => {
    stack = new StackRunner({
      root,
      brokers,
      databaseUrl,
      services: ['audit-writer', 'loader', 'transformer', 'extractor', 'operator', 'reconciler'],
      operatorToken: TOKEN,
      env: { LOG_LEVEL: 'warn' },
      serviceEnv: { reconciler: { RECONCILE_POLL_MS: '500', RECONCILE_SCHEDULE_ENABLED: 'false' } },
    });
    await stack.prepare();
    await stack.startSandboxes();
    const now = Date.now();
    periodFrom = formatShanghai(now - 30 * 60_000);
    const consign = formatShanghai(now - 5 * 60_000);
    const base = { status: 110, consign_time: consign, warehouse_no: 'SH01', provider_no: 'GYS001' };
    await stack.wdtAdmin('POST', '/orders', {
      orders: ORDERS.map((order_no, i) => ({
        ...base,
        order_no,
        details_list: [
          { spec_no: 'FH-S', goods_count: `${i + 1}.0000` },
          { spec_no: 'FH-M', goods_count: '2.5000' },
        ],
      })),
    });
    ds = await stack.openDataSource();
    await stack.startServices();
    for (const o of ORDERS)
      await eventually(`${o} loaded`, async () => (await status(o)) === 'loaded', 120_000);
    periodTo = formatShanghai(Date.now());

    // What people do in Kingdee and around it:
    const scheme = loadSchemesFromDir(resolve(root, 'schemes')).find((x) => x.id === SCHEME)!;
    const mapped = compileScheme(scheme).mapSync(await stack.wdtAdmin('GET', '/orders/RC-OK1'));
    if (mapped.outcome !== 'document') throw new Error('RC-OK1 does not map');
    // a bill deleted by hand
    await stack.kingdeeAdmin('DELETE', '/bills/by-number/RC-DEL');
    // the same order entered by hand a second time
    await stack.kingdeeAdmin('POST', '/bills', {
      Model: { ...mapped.model, FBillNo: 'RC-DUP' },
      allowDuplicateNumber: true,
    });
    // a bill entered by hand for no order at all
    await stack.kingdeeAdmin('POST', '/bills', { Model: { ...mapped.model, FBillNo: 'RC-EXTRA' } });
    // a quantity edited after audit, and a bill un-audited
    await stack.kingdeeAdmin('PATCH', '/bills/by-number/RC-QTY/entries/1', { FRMREALQTY: '1.25' });
    await stack.kingdeeAdmin('POST', '/bills/by-number/RC-UNAUD/unaudit', {});
    // a trail that contradicts Kingdee (an event lost the way a restored backup loses one)
    await ds.query(
      `UPDATE audit_orders SET status = 'failed', error_message = 'restored from an old backup'
        WHERE scheme_id = $1 AND source_key = 'RC-TRAIL'`,
      [SCHEME],
    );
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
    await stack?.cleanup();
  });

  let firstRun: string;

  it('finds exactly the discrepancies made by hand, each with its details, and exports them', async () => {
    const requested = await api('POST', '/api/reconciliations', {
      schemeId: SCHEME,
      from: periodFrom,
      to: periodTo,
    });
    expect(requested.status).toBe(201);
    firstRun = requested.body.id;
    const view = await runDone(firstRun);
    expect(view.counts).toEqual({
      matched: 3, // RC-OK1, RC-OK2 and RC-TRAIL (its content matches; its trail does not)
      missing_in_erp: 1,
      duplicated_in_erp: 1,
      extra_in_erp: 1,
      differs: 2,
      trail_disagrees: 2,
    });
    const findings = await findingsOf(firstRun);
    expect(findings.map(brief).sort()).toEqual(
      [
        'missing_in_erp:RC-DEL',
        'trail_disagrees:RC-DEL',
        'duplicated_in_erp:RC-DUP',
        'extra_in_erp:RC-EXTRA',
        'differs:RC-QTY',
        'differs:RC-UNAUD',
        'trail_disagrees:RC-TRAIL',
      ].sort(),
    );
    const by = (b: string) => findings.find((f) => brief(f) === b);
    expect(by('missing_in_erp:RC-DEL')).toMatchObject({ orderNo: 'RC-DEL', cause: 'unexplained' });
    expect(by('duplicated_in_erp:RC-DUP')!.billNumbers).toEqual(['RC-DUP', 'RC-DUP']);
    expect(by('extra_in_erp:RC-EXTRA')).toMatchObject({ orderNo: null, cause: 'no_order' });
    expect(by('differs:RC-QTY')!.differences).toEqual([
      { kind: 'value', field: 'FPURMRBENTRY[1].FRMREALQTY', expected: '2.5', actual: '1.25' },
    ]);
    expect(by('differs:RC-UNAUD')!.differences).toEqual([
      { kind: 'un_audited', field: 'FDocumentStatus', expected: 'C', actual: 'D' },
    ]);
    expect(by('trail_disagrees:RC-TRAIL')).toMatchObject({ trailStatus: 'failed' });

    // The summary went to the audit topic for other teams (its content: test/reconcile/reconcile-run).
    const [published] = await ds.query(
      `SELECT summary_published_at IS NOT NULL AS published FROM reconcile_runs WHERE id = $1`,
      [firstRun],
    );
    expect(published.published).toBe(true);

    const xlsx = await api('GET', `/api/reconciliations/${firstRun}/export?format=xlsx`);
    expect(xlsx.status).toBe(200);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(xlsx.body);
    expect(book.worksheets.map((w) => w.name)).toEqual([
      '汇总',
      '金蝶缺单',
      '金蝶重复单',
      '金蝶多出单',
      '内容不一致',
      '审计轨迹矛盾',
    ]);
    // Every cell is text (bill and order numbers never become numbers), checked cell by cell.
    const cells = (name: string): string[][] => {
      const out: string[][] = [];
      book.getWorksheet(name)!.eachRow((row) => {
        const values: string[] = [];
        row.eachCell({ includeEmpty: true }, (cell) => {
          expect(typeof cell.value === 'string' || cell.value === null).toBe(true);
          values.push(cell.value === null ? '' : String(cell.value));
        });
        out.push(values);
      });
      return out;
    };
    const summary = Object.fromEntries(
      cells('汇总')
        .slice(1)
        .map(([k, v]) => [k, v]),
    );
    expect(summary).toMatchObject({
      对账编号: firstRun,
      方案: SCHEME,
      期间开始: periodFrom,
      期间结束: periodTo,
      状态: 'done',
      一致: '3',
      金蝶缺单: '1',
      金蝶重复单: '1',
      金蝶多出单: '1',
      内容不一致: '2',
      审计轨迹矛盾: '2',
    });
    const header = [
      '单据键',
      '订单号',
      '金蝶单据编号',
      '原因',
      '审计状态',
      '字段',
      '期望值',
      '金蝶值',
      '说明',
      '补推状态',
      '补推结果',
    ];
    const columns = (row: string[]) => row.slice(0, 8);
    expect(cells('金蝶缺单')[0]).toEqual(header);
    expect(cells('金蝶缺单').slice(1).map(columns)).toEqual([
      ['RC-DEL', 'RC-DEL', '', '轨迹称已导入', 'loaded', '', '', ''],
    ]);
    expect(cells('金蝶重复单').slice(1).map(columns)).toEqual([
      ['RC-DUP', 'RC-DUP', 'RC-DUP, RC-DUP', '', 'loaded', '', '', ''],
    ]);
    expect(cells('金蝶多出单').slice(1).map(columns)).toEqual([
      ['RC-EXTRA', '', 'RC-EXTRA', '无对应订单', '', '', '', ''],
    ]);
    expect(cells('内容不一致').slice(1).map(columns)).toEqual([
      ['RC-QTY', 'RC-QTY', 'RC-QTY', '', 'loaded', 'FPURMRBENTRY[1].FRMREALQTY', '2.5', '1.25'],
      ['RC-UNAUD', 'RC-UNAUD', 'RC-UNAUD', '', 'loaded', 'FDocumentStatus', 'C', 'D'],
    ]);
    expect(
      cells('审计轨迹矛盾')
        .slice(1)
        .map((r) => [...columns(r).slice(0, 5), r[8]]),
    ).toEqual([
      ['RC-DEL', 'RC-DEL', '', '', 'loaded', expect.stringMatching(/Kingdee holds no bill/)],
      [
        'RC-TRAIL',
        'RC-TRAIL',
        'RC-TRAIL',
        '',
        'failed',
        expect.stringMatching(/trail says failed but Kingdee holds RC-TRAIL/),
      ],
    ]);

    const csv = await api('GET', `/api/reconciliations/${firstRun}/export?format=csv`);
    const text = (csv.body as Buffer).toString('utf8');
    expect(text.startsWith('\uFEFF"类别","单据键"')).toBe(true);
    expect(text).toContain(
      '"内容不一致","RC-QTY","RC-QTY","RC-QTY","","loaded","FPURMRBENTRY[1].FRMREALQTY","2.5","1.25"',
    );
  });

  it('re-pushing the missing bill writes it once; the next run leaves only what needs a person', async () => {
    const exported = join(mkdtempSync(join(tmpdir(), 'reconcile-e2e-')), 'second-run.xlsx');
    const repush = await api('POST', `/api/reconciliations/${firstRun}/repush`, {
      kinds: ['missing_in_erp'],
    });
    expect(repush.status).toBe(200);
    await eventually('RC-DEL written again', async () => (await billsOf('RC-DEL')).length === 1, 120_000);
    await eventually('RC-DEL loaded', async () => (await status('RC-DEL')) === 'loaded', 60_000);
    const finding = (await findingsOf(firstRun)).find((f) => brief(f) === 'missing_in_erp:RC-DEL');
    expect(finding.repushState).toBe('done');
    expect(finding.repushResult).toMatch(/no bill in Kingdee; resync .* requested/);

    const second = await run(
      process.execPath,
      [
        resolve(root, 'dist/apps/cli/src/reconcile.js'),
        '--scheme',
        SCHEME,
        '--from',
        periodFrom,
        '--to',
        formatShanghai(Date.now()),
        '--export',
        exported,
      ],
      { env: { ...process.env, ...stack.serviceEnv('reconciler') } },
    ).catch((err: { code: number; stdout: string; stderr: string }) => err);
    expect((second as { code?: number }).code).toBe(3);
    const [latest] = await ds.query(
      `SELECT id::text AS id, counts FROM reconcile_runs WHERE trigger = 'cli' ORDER BY requested_at DESC LIMIT 1`,
    );
    expect(latest.counts).toEqual({
      matched: 4,
      missing_in_erp: 0,
      duplicated_in_erp: 1,
      extra_in_erp: 1,
      differs: 2,
      trail_disagrees: 1,
    });
    expect(await billsOf('RC-DEL')).toHaveLength(1);
    // The CLI's export: the same workbook the API serves, for the second run.
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(exported);
    expect(book.getWorksheet('金蝶缺单')!.rowCount).toBe(1);
    expect(book.getWorksheet('金蝶重复单')!.getRow(2).getCell(1).value).toBe('RC-DUP');
  });
});
