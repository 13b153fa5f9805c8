import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressInfo } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import ExcelJS from 'exceljs';
import { ManualClock } from '@libs/common';
import type { Finding } from '@libs/reconcile';
import { OperatorAppModule } from '../../apps/operator/src/app.module';
import { createTestEnv, TestEnv } from '../support/test-env';

/**
 * The operator's reconciliation routes against a real operator app and Postgres, with runs and
 * findings written as the reconciler writes them: roles, validation messages naming the field, the
 * latest run per scheme, findings filters, cancel, re-push requests and their refusals, and the
 * Excel/CSV files checked cell by cell. The reconciler's side is in test/reconcile and test/e2e.
 */
const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';
const NOW = Date.parse('2026-12-02T02:00:00.000Z');
const secret = (name: string) => `${name}-${randomBytes(12).toString('hex')}`;
const OPERATOR = secret('operator');
const VIEWER = secret('viewer');
const TOKENS = `otto:operator:${OPERATOR},vic:viewer:${VIEWER}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API replies are read ad hoc
type Json = any;

const bill = (billNo: string, fid: string, documentStatus = 'C') => ({ fid, billNo, documentStatus });
const FINDINGS: Array<{ finding: Finding; cause: string | null; trail: string | null; bills: string[] }> = [
  {
    finding: {
      kind: 'missing_in_erp',
      key: '0012345',
      orderNo: '0012345',
      cause: 'unexplained',
      trailStatus: 'loaded',
      trailReason: null,
    },
    cause: 'unexplained',
    trail: 'loaded',
    bills: [],
  },
  {
    finding: {
      kind: 'duplicated_in_erp',
      key: 'CT-DUP',
      orderNo: 'CT-DUP',
      bills: [bill('CT-DUP', '7'), bill('CT-DUP', '9')],
    },
    cause: null,
    trail: 'loaded',
    bills: ['CT-DUP', 'CT-DUP'],
  },
  {
    finding: {
      kind: 'differs',
      key: 'CT-QTY',
      orderNo: 'CT-QTY',
      bill: bill('CT-QTY', '11'),
      differences: [
        { kind: 'value', field: 'FPURMRBENTRY[0].FRMREALQTY', expected: '2', actual: '1.25' },
        { kind: 'value', field: 'FSupplierID', expected: 'GYS001', actual: '0002' },
      ],
    },
    cause: null,
    trail: 'loaded',
    bills: ['CT-QTY'],
  },
  {
    finding: {
      kind: 'differs',
      key: 'CT-NAME',
      orderNo: 'CT-NAME',
      bill: bill('CT-NAME', '13'),
      differences: [{ kind: 'value', field: 'FDESCRIPTION', expected: '张三丰', actual: '李四' }],
    },
    cause: null,
    trail: 'loaded',
    bills: ['CT-NAME'],
  },
  {
    finding: {
      kind: 'extra_in_erp',
      key: 'HAND-1',
      orderNo: null,
      cause: 'no_order',
      sourceReason: null,
      bills: [bill('HAND-1', '12')],
    },
    cause: 'no_order',
    trail: null,
    bills: ['HAND-1'],
  },
];

describe('operator API: reconciliation runs, findings, exports and re-push requests', () => {
  let t: TestEnv;
  let app: INestApplication;
  let base: string;
  let schemesDir: string;
  const runId = randomUUID();
  const queuedId = randomUUID();

  const call = async (method: string, path: string, token = OPERATOR, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const type = res.headers.get('content-type') ?? '';
    return {
      status: res.status,
      headers: res.headers,
      body: (type.includes('json') ? await res.json() : Buffer.from(await res.arrayBuffer())) as Json,
    };
  };

  beforeAll(async () => {
    t = await createTestEnv('reconcile-api');
    // The scheme maps the receiver's name into the remark: a personal-data field operators never see.
    schemesDir = mkdtempSync(join(tmpdir(), 'reconcile-api-schemes-'));
    cpSync('schemes', schemesDir, { recursive: true });
    const file = join(schemesDir, `${SCHEME}.yaml`);
    const text = readFileSync(file, 'utf8');
    const withRemark = text.replace(
      /\n(\s+)FMRMODE:/,
      "\n$1FDESCRIPTION: { template: '{{receiver_name}}' }\n$1FMRMODE:",
    );
    if (withRemark === text) throw new Error('the shipped scheme no longer maps FMRMODE');
    writeFileSync(file, withRemark);
    const counts = {
      matched: 96,
      missing_in_erp: 1,
      duplicated_in_erp: 1,
      extra_in_erp: 1,
      differs: 2,
      trail_disagrees: 0,
    };
    await t.ds.query(
      `INSERT INTO reconcile_runs (id, scheme_id, period_from, period_to, trigger, schedule_slot, requested_by, state,
              phase, progress, counts, requested_at, started_at, finished_at)
       VALUES ($1, $2, '2026-11-30T16:00:00Z', '2026-12-01T15:59:59Z', 'schedule', '2026-12-02', 'schedule', 'done',
               'finished', '{"phase":"finished","sourceOrders":99}', $3, now() - interval '2 hours',
               now() - interval '2 hours', now() - interval '1 hour')`,
      [runId, SCHEME, JSON.stringify(counts)],
    );
    let seq = 0;
    for (const f of FINDINGS) {
      seq += 1;
      await t.ds.query(
        `INSERT INTO reconcile_findings (run_id, seq, kind, bill_key, order_no, cause, trail_status, bill_numbers, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          runId,
          seq,
          f.finding.kind,
          f.finding.key,
          f.finding.orderNo,
          f.cause,
          f.trail,
          f.bills,
          JSON.stringify(f.finding),
        ],
      );
    }
    await t.ds.query(
      `INSERT INTO reconcile_runs (id, scheme_id, period_from, period_to, trigger, requested_by, state)
       VALUES ($1, $2, '2026-12-01T16:00:00Z', '2026-12-02T01:00:00Z', 'api', 'otto', 'queued')`,
      [queuedId, SCHEME],
    );
    app = await NestFactory.create(
      OperatorAppModule.create(
        { ...t.env, OPERATOR_TOKENS: TOKENS, SCHEMES_DIR: schemesDir, LOG_LEVEL: 'silent' },
        { clock: new ManualClock(NOW) },
      ),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
    if (schemesDir) rmSync(schemesDir, { recursive: true, force: true });
  });

  it('shows the latest run and the latest finished run per scheme, with the nightly schedule', async () => {
    const res = await call('GET', '/api/reconciliations', VIEWER);
    expect(res.status).toBe(200);
    const row = res.body.items.find((i: Json) => i.schemeId === SCHEME);
    expect(row.schedule).toEqual({ enabled: true, cron: '0 4 * * *', days: 1, timezone: 'Asia/Shanghai' });
    expect(row.latest).toMatchObject({ id: queuedId, state: 'queued', trigger: 'api' });
    expect(row.lastDone).toMatchObject({
      id: runId,
      state: 'done',
      periodFrom: '2026-12-01 00:00:00',
      periodTo: '2026-12-01 23:59:59',
      scheduleSlot: '2026-12-02',
      counts: { matched: 96, missing_in_erp: 1 },
    });
    const page = await call('GET', `/api/reconciliations?schemeId=${SCHEME}&limit=1`, VIEWER);
    expect(page.body.items.map((r: Json) => r.id)).toEqual([queuedId]);
    expect(page.body.nextOffset).toBe(1);
  });

  it('queues a run for an operator, names the field of a bad request, and refuses viewers', async () => {
    const ok = await call('POST', '/api/reconciliations', OPERATOR, {
      schemeId: SCHEME,
      from: '2026-11-01 00:00:00',
      to: '2026-11-30 23:59:59',
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({
      state: 'queued',
      trigger: 'api',
      requestedBy: 'otto',
      periodFrom: '2026-11-01 00:00:00',
      periodTo: '2026-11-30 23:59:59',
    });
    const [row] = await t.ds.query(`SELECT state, period_from FROM reconcile_runs WHERE id = $1`, [
      ok.body.id,
    ]);
    expect(row.state).toBe('queued');
    expect((row.period_from as Date).toISOString()).toBe('2026-10-31T16:00:00.000Z');

    const viewer = await call('POST', '/api/reconciliations', VIEWER, {
      schemeId: SCHEME,
      from: '2026-11-01',
      to: '2026-11-02',
    });
    expect(viewer.status).toBe(403);
    const reversed = await call('POST', '/api/reconciliations', OPERATOR, {
      schemeId: SCHEME,
      from: '2026-11-30 00:00:00',
      to: '2026-11-01 00:00:00',
    });
    expect(reversed.status).toBe(400);
    expect(JSON.stringify(reversed.body)).toMatch(/to.*must not be before from/);
    const tooLong = await call('POST', '/api/reconciliations', OPERATOR, {
      schemeId: SCHEME,
      from: '2026-01-01 00:00:00',
      to: '2026-12-01 00:00:00',
    });
    expect(JSON.stringify(tooLong.body)).toMatch(/at most 93 days/);
    const unknown = await call('POST', '/api/reconciliations', OPERATOR, {
      schemeId: 'nosuch',
      from: '2026-11-01 00:00:00',
      to: '2026-11-02 00:00:00',
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/unknown scheme "nosuch"; known schemes: .*wdt-stockout-return/);
    const badTime = await call('POST', '/api/reconciliations', OPERATOR, {
      schemeId: SCHEME,
      from: 'yesterday',
      to: '2026-11-02',
    });
    expect(JSON.stringify(badTime.body)).toMatch(/from.*not a time/);
  });

  it('lists findings by class and search, with the values a person needs', async () => {
    const all = await call('GET', `/api/reconciliations/${runId}/findings`, VIEWER);
    expect(all.body.total).toBe(5);
    expect(all.body.items.map((f: Json) => `${f.kind}:${f.key}`)).toEqual([
      'missing_in_erp:0012345',
      'duplicated_in_erp:CT-DUP',
      'differs:CT-QTY',
      'differs:CT-NAME',
      'extra_in_erp:HAND-1',
    ]);
    const differs = await call('GET', `/api/reconciliations/${runId}/findings?kind=differs`, VIEWER);
    // Personal data: which field differs, never what it holds (also in the exports below).
    expect(differs.body.items[1].differences).toEqual([
      { kind: 'value', field: 'FDESCRIPTION', expected: '***', actual: '***' },
    ]);
    expect(JSON.stringify(differs.body)).not.toMatch(/张三丰|李四/);
    differs.body.items = differs.body.items.slice(0, 1);
    expect(differs.body.items).toEqual([
      expect.objectContaining({
        key: 'CT-QTY',
        orderNo: 'CT-QTY',
        billNumbers: ['CT-QTY'],
        bills: [{ fid: '11', billNo: 'CT-QTY', documentStatus: 'C' }],
        differences: [
          { kind: 'value', field: 'FPURMRBENTRY[0].FRMREALQTY', expected: '2', actual: '1.25' },
          { kind: 'value', field: 'FSupplierID', expected: 'GYS001', actual: '0002' },
        ],
        repushState: null,
      }),
    ]);
    const search = await call('GET', `/api/reconciliations/${runId}/findings?q=HAND`, VIEWER);
    expect(search.body.items.map((f: Json) => f.key)).toEqual(['HAND-1']);
    expect((await call('GET', `/api/reconciliations/${randomUUID()}/findings`, VIEWER)).status).toBe(404);
    expect((await call('GET', `/api/reconciliations/not-a-uuid`, VIEWER)).status).toBe(400);
  });

  it('exports the findings as an Excel workbook of text cells and as CSV with a BOM', async () => {
    const xlsx = await call('GET', `/api/reconciliations/${runId}/export?format=xlsx`, VIEWER);
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get('content-disposition')).toBe(
      `attachment; filename="reconcile-${SCHEME}-20261201-20261201.xlsx"`,
    );
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
    const cells = (name: string) => {
      const out: Array<Array<{ value: unknown; type: number }>> = [];
      book.getWorksheet(name)!.eachRow((row) => {
        const r: Array<{ value: unknown; type: number }> = [];
        row.eachCell({ includeEmpty: true }, (c) => r.push({ value: c.value, type: c.type }));
        out.push(r);
      });
      return out;
    };
    const missing = cells('金蝶缺单');
    expect(missing[0].map((c) => c.value)).toEqual([
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
    ]);
    // The leading zeros survive: a text cell, not the number 12345.
    expect(missing[1][0]).toEqual({ value: '0012345', type: ExcelJS.ValueType.String });
    expect(missing[1][1]).toEqual({ value: '0012345', type: ExcelJS.ValueType.String });
    expect(missing[1][3].value).toBe('轨迹称已导入');
    const differs = cells('内容不一致').slice(1);
    expect(differs.map((r) => r.slice(0, 8).map((c) => c.value))).toEqual([
      ['CT-QTY', 'CT-QTY', 'CT-QTY', '', 'loaded', 'FPURMRBENTRY[0].FRMREALQTY', '2', '1.25'],
      ['CT-QTY', 'CT-QTY', 'CT-QTY', '', 'loaded', 'FSupplierID', 'GYS001', '0002'],
      ['CT-NAME', 'CT-NAME', 'CT-NAME', '', 'loaded', 'FDESCRIPTION', '***', '***'],
    ]);
    for (const r of differs)
      for (const c of r) expect([ExcelJS.ValueType.String, ExcelJS.ValueType.Null]).toContain(c.type);
    expect(cells('金蝶重复单')[1][2].value).toBe('CT-DUP, CT-DUP');
    expect(cells('审计轨迹矛盾')).toHaveLength(1); // header only
    const summary = Object.fromEntries(
      cells('汇总')
        .slice(1)
        .map((r) => [r[0].value, r[1].value]),
    );
    expect(summary).toMatchObject({
      对账编号: runId,
      一致: '96',
      金蝶缺单: '1',
      内容不一致: '2',
      审计轨迹矛盾: '0',
      期间开始: '2026-12-01 00:00:00',
    });

    const csv = await call('GET', `/api/reconciliations/${runId}/export?format=csv`, VIEWER);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv; charset=utf-8/);
    const lines = (csv.body as Buffer).toString('utf8').split('\r\n');
    expect(lines[0]).toBe(
      '\uFEFF"类别","单据键","订单号","金蝶单据编号","原因","审计状态","字段","期望值","金蝶值","说明","补推状态","补推结果"',
    );
    expect(lines[1]).toBe('"金蝶缺单","0012345","0012345","","轨迹称已导入","loaded","","","","","",""');
    expect(lines).toHaveLength(1 + 6 + 1); // header, 6 rows (CT-QTY differs twice), trailing newline
    expect(lines).toContain(
      '"内容不一致","CT-NAME","CT-NAME","CT-NAME","","loaded","FDESCRIPTION","***","***","","",""',
    );
    expect((csv.body as Buffer).toString('utf8')).not.toMatch(/张三丰|李四/);
  });

  it('marks missing and differing findings for re-push once, and says why the rest are not', async () => {
    expect((await call('POST', `/api/reconciliations/${runId}/repush`, VIEWER, {})).status).toBe(403);
    const first = await call('POST', `/api/reconciliations/${runId}/repush`, OPERATOR, {
      kinds: ['missing_in_erp'],
    });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ requested: 1, notRequested: [] });
    const [row] = await t.ds.query(
      `SELECT repush_state, repush_requested_by FROM reconcile_findings WHERE run_id = $1 AND bill_key = '0012345'`,
      [runId],
    );
    expect(row).toEqual({ repush_state: 'requested', repush_requested_by: 'otto' });

    const byKeys = await call('POST', `/api/reconciliations/${runId}/repush`, OPERATOR, {
      keys: ['0012345', 'CT-DUP', 'CT-QTY'],
    });
    expect(byKeys.body.requested).toBe(1); // CT-QTY
    expect(byKeys.body.notRequested).toEqual([
      { key: '0012345', kind: 'missing_in_erp', reason: 'its re-push is already requested' },
      { key: 'CT-DUP', kind: 'duplicated_in_erp', reason: expect.stringMatching(/needs a person/) },
    ]);
    const bad = await call('POST', `/api/reconciliations/${runId}/repush`, OPERATOR, {
      kinds: ['extra_in_erp'],
    });
    expect(bad.status).toBe(400);
    expect((await call('POST', `/api/reconciliations/${queuedId}/repush`, OPERATOR, {})).status).toBe(409);
  });

  it('cancels a queued run at once, and refuses to cancel a finished one', async () => {
    const res = await call('POST', `/api/reconciliations/${queuedId}/cancel`, OPERATOR);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'cancelled', cancelRequested: true, error: 'cancelled by otto' });
    expect((await call('POST', `/api/reconciliations/${runId}/cancel`, OPERATOR)).status).toBe(409);
  });
});
