import { loadConnections } from '@libs/connections';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { formatShanghai, silentLogger } from '@libs/common';
import { AuditEventSchema, decodeEvent } from '@libs/contracts';
import { createKafka } from '@libs/kafka';
import { createKingdeePool } from '@libs/loading';
import { compileScheme } from '@libs/mapping';
import { loadSchemesFromDir } from '@libs/scheme';

import { StackRunner } from '@tools/devstack';
import { DataSource } from 'typeorm';
import { parse, stringify } from 'yaml';
import { eventually, readAll } from '../support/test-env';
import { FULL_STACK, testStack } from '../support/stack-fixtures';

const run = promisify(execFile);
// The API's JSON, read loosely in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const root = resolve(__dirname, '../..');
const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';
const TOKEN = 'audit-trail-operator-token-0123';
// AT-PII's personal data: a receiver field mapped into the bill, and a remark mapped with `pii: true`.
const PII = { name: '欧阳明华', mobile: '13912345678', address: '广东省深圳市南山区科技园路1号' };
const PII_REMARK = 'PII-REMARK-4471 leave at the back door';

/**
 * The shipped scheme, plus two target fields holding personal data (FDELIVERYNO reads a receiver field),
 * and a short lookback cadence.
 */
function schemesWithPii(): string {
  const dir = mkdtempSync(join(tmpdir(), 'audit-trail-schemes-'));
  const scheme = parse(readFileSync(resolve(root, 'schemes', `${SCHEME}.yaml`), 'utf8'));
  scheme.mapping.header.FDELIVERYNO = { template: '{{receiver_mobile}}' };
  scheme.mapping.header.FCARRYNO = { template: '{{remark}}', pii: true };
  // Orders are edited in WDT after their consign time (which is the cursor's axis): the lookback
  // re-read finds such edits; run it every few seconds instead of every minute so waits stay short.
  scheme.source.cursor.lookbackInterval = '3s';
  writeFileSync(join(dir, `${SCHEME}.yaml`), stringify(scheme));
  return dir;
}

/**
 * Issue 10, findings 1–3, on the whole stack as processes: the trail keeps the bill and the latest
 * version apart, re-push reads the source again, and every attempt is in the history with the
 * request sent to Kingdee and Kingdee's reply.
 */
describe('audit trail operators can act on', () => {
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  let stack: StackRunner;
  let ds: DataSource;
  let kingdee: ReturnType<typeof createKingdeePool>;
  const schemesDir = schemesWithPii();

  const order = async (orderNo: string) =>
    (
      await ds.query(
        `SELECT status, bill_state, kingdee_number, attempts, updated_at, dead_letter_id::text AS dead_letter_id
           FROM audit_orders WHERE scheme_id = $1 AND source_key = $2`,
        [SCHEME, orderNo],
      )
    )[0] as
      | {
          status: string;
          bill_state: string;
          kingdee_number: string | null;
          attempts: number;
          updated_at: Date;
          dead_letter_id: string | null;
        }
      | undefined;
  const billsOf = async (orderNo: string): Promise<unknown[]> => {
    const res = await stack.kingdeeAdmin('GET', `/bills?page=1&pageSize=200`);
    return (res.items as Array<{ FBillNo: string }>).filter((b) => b.FBillNo === orderNo);
  };
  const api = async (method: string, path: string, body?: unknown, token = TOKEN) => {
    const res = await fetch(`${stack.url('operator')}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, Json> };
  };
  const cli = async (name: string, args: string[]) => {
    try {
      const { stdout } = await run(
        process.execPath,
        [resolve(root, `dist/apps/cli/src/${name}.js`), ...args],
        {
          env: { ...process.env, ...stack.serviceEnv('transformer') },
        },
      );
      return { code: 0, stdout };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: `${e.stdout}\n${e.stderr}` };
    }
  };
  const line = (spec_no: string, goods_count: string) => [{ spec_no, goods_count }];

  beforeAll(async () => {
    stack = testStack({
      services: FULL_STACK,
      schemesDir,
      operatorToken: TOKEN,
      env: { LOG_LEVEL: 'warn' },
      // Submit/Audit is retried on its own only after 10 minutes: the operator's retry is what moves it.
      serviceEnv: { loader: { LOADER_AUDIT_RETRY_MS: '600000' } },
    });
    await stack.prepare();
    await stack.startSandboxes();
    const consign = formatShanghai(Date.now() - 120_000);
    const base = { status: 110, consign_time: consign, warehouse_no: 'SH01', provider_no: 'GYS001' };
    await stack.wdtAdmin('POST', '/orders', {
      orders: [
        { ...base, order_no: 'AT-QTY', details_list: line('FH-S', '-1.0000') },
        { ...base, order_no: 'AT-SKU', details_list: line('AT-NO-SUCH-SKU', '2.0000') },
        { ...base, order_no: 'AT-HAND', details_list: line('FH-M', '5.0000') },
        {
          ...base,
          order_no: 'AT-PII',
          details_list: line('FH-M', '1.0000'),
          receiver_name: PII.name,
          receiver_mobile: PII.mobile,
          receiver_address: PII.address,
          remark: PII_REMARK,
        },
      ],
    });
    // Someone entered AT-HAND in Kingdee by hand before the integration saw it, with another supplier.
    const scheme = loadSchemesFromDir(schemesDir).find((x) => x.id === SCHEME)!;
    const record = await stack.wdtAdmin('GET', '/orders/AT-HAND');
    const mapped = compileScheme(scheme).mapSync(record);
    if (mapped.outcome !== 'document') throw new Error('AT-HAND does not map');
    kingdee = createKingdeePool(
      loadConnections({ env: stack.serviceEnv('loader'), kinds: ['kingdee'] }).kingdee('default')
        .clientOptions,
      1,
      silentLogger,
    );
    await kingdee.save('PUR_MRB', { ...mapped.model, FSupplierID: { FNumber: 'GYS002' } });
    ds = await stack.openDataSource();
    await stack.startServices();
  });

  afterAll(async () => {
    await stack?.stop();
    await stack?.cleanup();
    rmSync(schemesDir, { recursive: true, force: true });
  });

  it('(1) a dead letter whose order was fixed and loaded is closed by re-push, and the order stays loaded with one bill', async () => {
    await eventually(
      'AT-QTY dead-lettered',
      async () => (await order('AT-QTY'))?.status === 'dead_lettered',
      60_000,
    );
    const deadLetterId = (await order('AT-QTY'))!.dead_letter_id!;
    // Fixed in WDT: the extractor loads it on its own.
    await stack.wdtAdmin('PATCH', '/orders/AT-QTY', { details_list: line('FH-S', '3.0000') });
    await eventually('AT-QTY loaded', async () => (await order('AT-QTY'))?.status === 'loaded', 90_000);

    // The order loaded at a newer version: its dead letter closed itself, saying why.
    await eventually('the dead letter closed', async () => {
      const [d] = await ds.query(`SELECT state, closed_reason FROM dead_letters WHERE event_id = $1`, [
        deadLetterId,
      ]);
      return d.state === 'closed' && /AT-QTY is loaded as bill AT-QTY/.test(d.closed_reason);
    });
    const again = await cli('repush', ['--dead-letter', deadLetterId]);
    expect(again.stdout).toMatch(/already closed/);
    const all = await cli('repush', ['--all-dead-lettered', '--scheme', SCHEME]);
    expect(all.code).toBe(0);
    expect(all.stdout).not.toMatch(/AT-QTY/);
    const byOrder = await cli('repush', ['--order', 'AT-QTY']);
    expect(byOrder.stdout).toMatch(/order is loaded/);
    // A dead letter still parked from before (as a trail written by an older version would hold):
    // re-push reads the order again, finds it loaded and closes the dead letter.
    const reopen = () =>
      ds.query(`UPDATE dead_letters SET state = 'parked' WHERE event_id = $1`, [deadLetterId]);
    await reopen();
    const byId = await cli('repush', ['--dead-letter', deadLetterId]);
    expect(byId.stdout).toMatch(/"outcome":"closed"/);
    // Even the stale parked payload, re-sent on purpose, cannot flip the order back.
    await reopen();
    const stale = await cli('repush', ['--dead-letter', deadLetterId, '--payload', '--no-wait']);
    expect(stale.stdout).toMatch(/"outcome":"repushed"/);
    await eventually('the stale payload dead-lettered again, and closed', async () => {
      const rows: Array<{ state: string }> = await ds.query(
        `SELECT state FROM dead_letters WHERE source_key = 'AT-QTY' AND event_id <> $1`,
        [deadLetterId],
      );
      return rows.length === 1 && rows[0].state === 'closed';
    });
    await new Promise((r) => setTimeout(r, 3000)); // let a mistaken flip happen, if it would
    expect(await order('AT-QTY')).toMatchObject({ status: 'loaded', bill_state: 'audited' });
    expect(await billsOf('AT-QTY')).toHaveLength(1);
    const view = await api('GET', '/api/audit/orders/AT-QTY');
    expect(view.body.orders[0].bill).toMatchObject({ state: 'audited', number: 'AT-QTY' });
    expect(view.body.orders[0].latest).toMatchObject({ status: 'loaded' });
    expect(Object.keys(view.body.orders[0]).slice(0, 3)).toEqual(['schemeId', 'sourceKey', 'bill']);
  });

  it('(2) a failure names the value that failed, and shows the request sent to Kingdee and its reply', async () => {
    await eventually(
      'AT-SKU waiting for base data',
      async () => (await order('AT-SKU'))?.status === 'waiting_base_data',
      90_000,
    );
    const view = await api('GET', '/api/audit/orders/AT-SKU');
    expect(view.body.orders[0].latest.errorMessage).toMatch(
      /material AT-NO-SUCH-SKU does not exist in Kingdee/,
    );
    const waiting = (view.body.history.items as Array<Record<string, Json>>).find(
      (h) => h.status === 'waiting_base_data',
    );
    expect(waiting?.attempt).toMatchObject({ operation: 'BatchSave' });
    expect(JSON.stringify(waiting!.attempt.request)).toContain('AT-NO-SUCH-SKU');
    expect(JSON.stringify(waiting!.attempt.reply)).toMatch(/FMATERIALID|物料/);
    expect(waiting!.attempt.reply.ResponseStatus.IsSuccess).toBe(false);
  });

  it('(3) a re-push that fails again is a new attempt in the history, and the CLIs print its outcome', async () => {
    // Kingdee's own rule (not base data): every bill needs a remark, which the scheme does not map.
    await stack.kingdeeAdmin('PATCH', '/switches', { extraRequiredHeaderFields: ['FDESCRIPTION'] });
    try {
      await stack.wdtAdmin('POST', '/orders', {
        orders: [
          {
            order_no: 'AT-REQ',
            status: 110,
            consign_time: formatShanghai(Date.now() - 60_000),
            warehouse_no: 'SH01',
            provider_no: 'GYS001',
            details_list: line('FH-S', '1.0000'),
          },
        ],
      });
      await eventually('AT-REQ failed', async () => (await order('AT-REQ'))?.status === 'failed', 90_000);
      const before = (await order('AT-REQ'))!;
      const out = await cli('repush', ['--order', 'AT-REQ', '--timeout', '120']);
      expect(out.stdout).toMatch(/1 order\(s\) read again from WDT in windows taking at least 1 WDT call/);
      expect(out.stdout).toMatch(/AT-REQ \(.*\): failed at loader — .*(FDESCRIPTION|备注)/);
      const after = (await order('AT-REQ'))!;
      expect(after.attempts).toBe(before.attempts + 1);
      expect(after.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());
      const view = await api('GET', '/api/audit/orders/AT-REQ');
      const failures = (view.body.history.items as Array<Record<string, Json>>).filter(
        (h) => h.status === 'failed' && h.attempt,
      );
      expect(failures.length).toBe(2);
      expect(new Set(failures.map((f) => f.attempt.attemptId)).size).toBe(2);
      for (const f of failures) {
        expect(JSON.stringify(f.attempt.request)).toContain('AT-REQ');
        expect(JSON.stringify(f.attempt.reply)).toMatch(/FDESCRIPTION|备注/);
      }
      const resync = await cli('resync', ['--scheme', SCHEME, '--order', 'AT-REQ', '--timeout', '120']);
      expect(resync.stdout).toMatch(/AT-REQ: failed at loader — /);
    } finally {
      await stack.kingdeeAdmin('PATCH', '/switches', { extraRequiredHeaderFields: [] });
    }
  });

  it('closes an order with a reason and the name of who did it; the bill fact is untouched', async () => {
    const res = await api('POST', '/api/audit/orders/AT-SKU/close', {
      schemeId: SCHEME,
      reason: 'material retired; entered by hand in Kingdee',
    });
    expect(res.status).toBe(200);
    const view = await api('GET', '/api/audit/orders/AT-SKU');
    expect(view.body.orders[0].latest).toMatchObject({
      status: 'closed',
      closedBy: 'demo',
      closedReason: 'material retired; entered by hand in Kingdee',
    });
    expect(view.body.orders[0].bill.state).toBe('none');
    expect(
      (await api('POST', '/api/audit/orders/AT-QTY/close', { schemeId: SCHEME, reason: 'no' + 'pe' })).status,
    ).toBe(400);
  });

  it('an order in conflict with a bill entered by hand loads once after a person deletes that bill and confirms it absent', async () => {
    await eventually(
      'AT-HAND in conflict',
      async () => (await order('AT-HAND'))?.status === 'conflict_in_erp',
      90_000,
    );
    expect(await billsOf('AT-HAND')).toHaveLength(1);
    await kingdee.delete('PUR_MRB', { numbers: ['AT-HAND'] });
    expect(await billsOf('AT-HAND')).toHaveLength(0);
    const res = await api('POST', '/api/audit/orders/AT-HAND/confirm-absent', {
      schemeId: SCHEME,
      reason: 'deleted the hand-made bill in Kingdee',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ claim: 'free' });
    await eventually('AT-HAND loaded', async () => (await order('AT-HAND'))?.status === 'loaded', 90_000);
    const bills = (await billsOf('AT-HAND')) as Array<{
      FSupplierID: { FNumber: string };
      FDocumentStatus: string;
    }>;
    expect(bills).toHaveLength(1);
    expect(bills[0]).toMatchObject({ FSupplierID: { FNumber: 'GYS001' }, FDocumentStatus: 'C' });
    // Only for orders that need it: a loaded order's claim is not freed.
    const refused = await api('POST', '/api/audit/orders/AT-HAND/confirm-absent', {
      schemeId: SCHEME,
      reason: 'by mistake',
    });
    expect(refused.status).toBe(409);
    // The action is recorded once, with who and why (the refused one wrote nothing).
    const actions = await ds.query(
      `SELECT token_name, target, params FROM operator_actions WHERE action = 'confirm_absent'`,
    );
    expect(actions).toEqual([
      {
        token_name: 'demo',
        target: `${SCHEME}/AT-HAND`,
        params: expect.objectContaining({ reason: 'deleted the hand-made bill in Kingdee' }),
      },
    ]);
  });

  it('links a failed order to a bill a person entered by hand: the bill shows, and nothing writes it again', async () => {
    const res = await api('POST', '/api/audit/orders/AT-SKU/link', {
      schemeId: SCHEME,
      number: 'HAND-0001',
      kingdeeId: '900001',
      reason: 'entered by hand with the new material code',
    });
    expect(res.status).toBe(200);
    const view = await api('GET', '/api/audit/orders/AT-SKU');
    expect(view.body.orders[0].bill).toMatchObject({
      state: 'audited',
      number: 'HAND-0001',
      kingdeeId: '900001',
    });
    expect(view.body.orders[0].latest).toMatchObject({ status: 'loaded' });
    const [claim] = await ds.query(`SELECT state, kingdee_number FROM bill_claims WHERE bill_key = 'AT-SKU'`);
    expect(claim).toMatchObject({ state: 'loaded', kingdee_number: 'HAND-0001' });
    const out = await cli('resync', ['--scheme', SCHEME, '--order', 'AT-SKU', '--timeout', '120']);
    expect(out.stdout).toMatch(/AT-SKU: (loaded|duplicate) at loader — bill HAND-0001/);
    expect(await billsOf('AT-SKU')).toHaveLength(0);
    const [action] = await ds.query(
      `SELECT token_name, params FROM operator_actions WHERE action = 'link.bill'`,
    );
    expect(action).toMatchObject({
      token_name: 'demo',
      params: { reason: 'entered by hand with the new material code' },
    });
  });

  it('retries Submit/Audit of a saved bill at an operator’s request', async () => {
    // The automatic Submit/Audit of BatchSave throws after the save (the bill stays a draft), and the
    // loader's own Submit/Audit is refused: the bill is saved, not audited.
    const stuck = { exceptionAfterSaveRate: 1, exceptionAfterSaveMode: 'draft', submitAuditFailureRate: 1 };
    await stack.kingdeeAdmin('PATCH', '/knobs', stuck);
    await stack.wdtAdmin('POST', '/orders', {
      orders: [
        {
          order_no: 'AT-AUDIT',
          status: 110,
          consign_time: formatShanghai(Date.now() - 60_000),
          warehouse_no: 'SH01',
          provider_no: 'GYS001',
          details_list: line('FH-L', '1.0000'),
        },
      ],
    });
    await eventually(
      'AT-AUDIT saved, not audited',
      async () => (await order('AT-AUDIT'))?.bill_state === 'saved',
      90_000,
    );
    expect((await order('AT-AUDIT'))!.status).toBe('saved_not_audited');
    await stack.kingdeeAdmin('PATCH', '/knobs', { exceptionAfterSaveRate: 0, submitAuditFailureRate: 0 });
    const res = await api('POST', '/api/audit/orders/AT-AUDIT/retry-audit', {
      schemeId: SCHEME,
      reason: 'approval workflow fixed',
    });
    expect(res.status).toBe(200);
    await eventually(
      'AT-AUDIT audited',
      async () => (await order('AT-AUDIT'))?.bill_state === 'audited',
      60_000,
    );
    expect(await order('AT-AUDIT')).toMatchObject({ status: 'loaded' });
    const bills = (await billsOf('AT-AUDIT')) as Array<{ FDocumentStatus: string }>;
    expect(bills.map((b) => b.FDocumentStatus)).toEqual(['C']);
    // The refused and the retried Submit/Audit calls are in the history with their bodies. Attempt
    // bodies are written off the write path (buffered), so they may follow the event by a moment.
    const auditCalls = async () => {
      const view = await api('GET', '/api/audit/orders/AT-AUDIT');
      return (view.body.history.items as Array<Record<string, Json>>)
        .filter((h) => h.attempt && h.attempt.operation !== 'BatchSave')
        .map((h) => [h.status, h.attempt.operation, h.attempt.outcome]);
    };
    await eventually('the retried Audit call in the history', async () =>
      (await auditCalls()).some((c) => c[0] === 'loaded' && c[1] === 'Audit' && c[2] === 'done'),
    );
    const calls = await auditCalls();
    expect(calls).toContainEqual([
      'saved_not_audited',
      expect.stringMatching(/Submit|Audit/),
      expect.stringMatching(/refused|not_done/),
    ]);
    expect(calls).toContainEqual(['loaded', 'Audit', 'done']);
    const actions = await ds.query(
      `SELECT token_name, target, params FROM operator_actions WHERE action = 'retry_audit'`,
    );
    expect(actions).toEqual([
      { token_name: 'demo', target: `${SCHEME}/AT-AUDIT`, params: { reason: 'approval workflow fixed' } },
    ]);
  });

  it('masks personal data in stored Kingdee request bodies for a viewer and an admin; an admin’s reveal shows them and is recorded', async () => {
    await eventually('AT-PII loaded', async () => (await order('AT-PII'))?.status === 'loaded', 90_000);
    const batchSave = (body: Json) =>
      (body.history.items as Array<Record<string, Json>>).find(
        (h) => h.attempt?.operation === 'BatchSave' && h.attempt.request,
      )?.attempt;
    // Attempt bodies are written off the write path: wait for the BatchSave body.
    await eventually(
      'the BatchSave body of AT-PII',
      async () => batchSave((await api('GET', '/api/audit/orders/AT-PII')).body) !== undefined,
    );
    for (const token of [stack.viewerToken, TOKEN]) {
      const res = await api('GET', '/api/audit/orders/AT-PII', undefined, token);
      expect(res.status).toBe(200);
      const text = JSON.stringify(res.body);
      // Receiver fields, and the remark a `pii: true` mapping reads, wherever they appear (the WDT
      // record of each version, bodies).
      for (const value of [PII.name, PII.mobile, '科技园路', 'PII-REMARK-4471'])
        expect(text).not.toContain(value);
      expect(res.body.orders[0].versions[0].record).toMatchObject({
        receiver_name: '欧**',
        receiver_mobile: '139****5678',
        remark: '***',
      });
      // Target fields holding personal data, in the request sent to Kingdee and in the mapped document.
      for (const body of [batchSave(res.body).request, res.body.orders[0].versions[0].document]) {
        const json = JSON.stringify(body);
        expect(json).toContain('"FDELIVERYNO":"***"'); // reads receiver_mobile
        expect(json).toContain('"FCARRYNO":"***"'); // mapped with pii: true
        expect(json).toContain('"FBillNo":"AT-PII"'); // the rest of the body stays readable
      }
    }
    const reveals = () =>
      ds.query(`SELECT token_name, target, outcome FROM operator_actions WHERE action = 'reveal_pii'`);
    expect(await reveals()).toEqual([]);
    const revealed = await api('GET', '/api/audit/orders/AT-PII?reveal=pii');
    expect(revealed.status).toBe(200);
    const request = JSON.stringify(batchSave(revealed.body).request);
    expect(request).toContain(`"FDELIVERYNO":"${PII.mobile}"`);
    expect(request).toContain(`"FCARRYNO":"${PII_REMARK}"`);
    expect(revealed.body.orders[0].versions[0].record).toMatchObject({
      receiver_mobile: PII.mobile,
      remark: PII_REMARK,
    });
    expect(await reveals()).toEqual([{ token_name: 'demo', target: 'audit/orders/AT-PII', outcome: 'ok' }]);
    // A viewer may not reveal.
    expect(
      (await api('GET', '/api/audit/orders/AT-PII?reveal=pii', undefined, stack.viewerToken)).status,
    ).toBe(403);
  });

  it('closes a record the extractor parked as malformed under its order number once that order loads', async () => {
    // WDT sends AT-BAD with a wrong-typed quantity on every read: the re-read does not heal it, it is parked.
    await stack.wdtAdmin('PATCH', '/knobs', { corruptions: [{ order: 'AT-BAD', kind: 'wrong_type' }] });
    await stack.wdtAdmin('POST', '/orders', {
      orders: [
        {
          order_no: 'AT-BAD',
          status: 110,
          consign_time: formatShanghai(Date.now() - 60_000),
          warehouse_no: 'SH01',
          provider_no: 'GYS001',
          details_list: line('FH-S', '2.0000'),
        },
      ],
    });
    const parkedRows = () =>
      ds.query(
        `SELECT stage, state, closed_reason FROM dead_letters WHERE scheme_id = $1 AND source_key = 'AT-BAD'`,
        [SCHEME],
      ) as Promise<Array<{ stage: string; state: string; closed_reason: string | null }>>;
    await eventually(
      'AT-BAD parked by the extractor',
      async () => (await parkedRows()).some((d) => d.stage === 'extractor' && d.state === 'parked'),
      60_000,
    );
    expect(await order('AT-BAD')).toMatchObject({ status: 'dead_lettered', bill_state: 'none' });
    // WDT sends it whole again: the next poll (its window overlaps) reads it, and it loads.
    await stack.wdtAdmin('PATCH', '/knobs', { corruptions: [] });
    await eventually('AT-BAD loaded', async () => (await order('AT-BAD'))?.status === 'loaded', 90_000);
    await eventually('the parked record closed', async () => {
      const rows = await parkedRows();
      return rows.length > 0 && rows.every((d) => d.state === 'closed');
    });
    for (const d of await parkedRows())
      expect(d).toMatchObject({ stage: 'extractor', closed_reason: 'order AT-BAD is loaded as bill AT-BAD' });
    expect(await billsOf('AT-BAD')).toHaveLength(1);
  });

  it('closing an order that holds a bill keeps the bill in view', async () => {
    // A newer version of the loaded AT-BAD fails: the bill stays, the latest version is dead-lettered.
    await stack.wdtAdmin('PATCH', '/orders/AT-BAD', { details_list: line('FH-S', '-2.0000') });
    await eventually(
      'the newer AT-BAD dead-lettered',
      async () => (await order('AT-BAD'))?.status === 'dead_lettered',
      60_000,
    );
    expect(await order('AT-BAD')).toMatchObject({ bill_state: 'audited', kingdee_number: 'AT-BAD' });
    const res = await api('POST', '/api/audit/orders/AT-BAD/close', {
      schemeId: SCHEME,
      reason: 'return cancelled in WDT after the bill was audited',
    });
    expect(res.status).toBe(200);
    const view = await api('GET', '/api/audit/orders/AT-BAD');
    expect(view.body.orders[0].latest).toMatchObject({
      status: 'closed',
      closedBy: 'demo',
      closedReason: 'return cancelled in WDT after the bill was audited',
    });
    expect(view.body.orders[0].bill).toMatchObject({ state: 'audited', number: 'AT-BAD' });
    expect(await order('AT-BAD')).toMatchObject({
      status: 'closed',
      bill_state: 'audited',
      kingdee_number: 'AT-BAD',
    });
    const list = await api('GET', `/api/audit/orders?schemeId=${SCHEME}&status=closed&limit=100`);
    const row = (list.body.items as Array<Record<string, Json>>).find((o) => o.sourceKey === 'AT-BAD');
    expect(row?.bill).toMatchObject({ state: 'audited', number: 'AT-BAD' });
    expect(await billsOf('AT-BAD')).toHaveLength(1);
  });

  it('audit events on the topic never carry a request or reply body (bodies are in Postgres only)', async () => {
    const kafka = createKafka({ brokers, clientId: `at-audit-${stack.runId}` });
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(stack.topics.audit).finally(() => admin.disconnect());
    const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
    const messages = await readAll({ brokers }, stack.topics.audit, total);
    // Strict schema: an event with any field beyond the contract (a body) would not decode.
    const events = messages.map((m) => decodeEvent(AuditEventSchema, m.value, 'audit'));
    for (const m of messages)
      expect(m.value).not.toMatch(
        /"request"|"reply"|"Model"|IsAutoSubmitAndAudit|ResponseStatus|FDELIVERYNO|13912345678|PII-REMARK/,
      );
    // Events name their attempt; the bodies are found by that id in Postgres.
    const pii = events.filter((e) => e.sourceKey === 'AT-PII' && e.attemptId);
    expect(pii.length).toBeGreaterThan(0);
    const stored: Array<{ request: Json }> = await ds.query(
      `SELECT request FROM audit_attempts WHERE attempt_id = ANY($1::uuid[]) AND operation = 'BatchSave'`,
      [pii.map((e) => e.attemptId)],
    );
    expect(stored.length).toBeGreaterThan(0);
    expect(JSON.stringify(stored[0].request)).toContain(PII.mobile); // unmasked where it is kept
  });
});
