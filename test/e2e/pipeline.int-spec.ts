import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { formatShanghai } from '@libs/common';

import { StackRunner } from '@tools/devstack';
import { DataSource } from 'typeorm';
import { eventually } from '../support/test-env';
import { FULL_STACK, testStack } from '../support/stack-fixtures';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';
const TOKEN = 'e2e-operator-token-0123456789';

/** A bill as the Kingdee sandbox's admin API renders it (Kingdee field keys). */
interface Bill {
  FBillNo: string;
  FDocumentStatus: string;
  FSupplierID: unknown;
  FDate: unknown;
  FPURMRBENTRY: Array<Record<string, unknown>>;
}

/**
 * The whole stack as processes — both sandboxes, extractor, transformer, loader, audit writer and
 * operator — on the real broker and Postgres. Kingdee loses replies and throws 5xx at random and
 * the loader is killed mid-run: every eligible order must still end as exactly one audited bill.
 */
describe('end to end: WDT sandbox → Kafka → Kingdee sandbox, audited in Postgres', () => {
  let stack: StackRunner;
  let ds: DataSource;
  let orders: Array<Record<string, unknown>>;

  const outcomes = async () =>
    (await ds.query(
      `SELECT source_key, status, reason, error_message, kingdee_number FROM audit_orders WHERE scheme_id = $1`,
      [SCHEME],
    )) as Array<{
      source_key: string;
      status: string;
      reason: string | null;
      error_message: string | null;
      kingdee_number: string | null;
    }>;
  const bills = async (): Promise<Bill[]> => {
    const out: Bill[] = [];
    for (let page = 1; ; page++) {
      const res = await stack.kingdeeAdmin('GET', `/bills?page=${page}&pageSize=200`);
      out.push(...res.items);
      if (res.items.length < 200) return out;
    }
  };

  beforeAll(async () => {
    stack = testStack({
      services: FULL_STACK,
      operatorToken: TOKEN,
      env: { LOG_LEVEL: 'warn' },
      kingdee: { knobs: { lostResponseRate: 0.15, lostResponseMode: 'destroy', http5xxRate: 0.1 } },
      // The sandbox has no IIS execution timeout to wait out: a write of a killed loader whose bill is
      // absent is concluded unwritten after 10 + 10 s instead of the shipped 120 + 110 s.
      serviceEnv: { loader: { KINGDEE_SERVER_EXECUTION_TIMEOUT_MS: '10000' } },
    });
    await stack.prepare();
    await stack.startSandboxes();
    const now = Date.now();
    await stack.wdtAdmin('POST', '/orders/seed', {
      count: 40,
      seed: 4242,
      from: formatShanghai(now - 2 * 86_400_000),
      to: formatShanghai(now - 5 * 60_000),
      statusWeights: { '5': 1, '55': 1, '95': 3, '110': 5 },
    });
    await stack.wdtAdmin('POST', '/orders', {
      orders: [
        {
          order_no: 'E2E-NOLINES',
          status: 110,
          consign_time: formatShanghai(now - 3_600_000),
          warehouse_no: 'SH01',
          provider_no: 'GYS001',
          details_list: [],
        },
        {
          order_no: 'E2E-UNKNOWN-SKU',
          status: 110,
          consign_time: formatShanghai(now - 3_500_000),
          warehouse_no: 'GZ03',
          provider_no: 'GYS003',
          details_list: [{ spec_no: 'NOSUCH-SKU-001', goods_count: '4.0000' }],
        },
      ],
    });
    const list = await stack.wdtAdmin('GET', '/orders?page_no=0&page_size=200');
    orders = list.orders;
    ds = await stack.openDataSource();
    await stack.startServices();
  });

  afterAll(async () => {
    await stack?.stop();
    await stack?.cleanup();
  });

  it('turns every eligible order into exactly one audited bill with the mapped content, despite lost replies, 5xx and a killed loader', async () => {
    const shipped = orders.filter((o) => ['95', '110'].includes(String(o.status)));
    const eligible = shipped.filter(
      (o) =>
        Array.isArray(o.details_list) &&
        (o.details_list as unknown[]).length > 0 &&
        o.order_no !== 'E2E-UNKNOWN-SKU',
    );
    await eventually('some bills', async () => (await bills()).length >= 5, 90_000);
    await stack.restart('loader', 'kill'); // crash mid-run; a new process takes over its partitions
    await eventually(
      'an outcome for every shipped order',
      async () => {
        const done = new Set(
          (await outcomes())
            .filter((r) => !['dead_lettered', 'parked', 'settling', 'saved_not_audited'].includes(r.status))
            .map((r) => r.source_key),
        );
        return shipped.every((o) => done.has(String(o.order_no)));
      },
      120_000,
    );
    const all = await bills();
    const perOrder = new Map<string, Bill[]>();
    for (const b of all) perOrder.set(b.FBillNo, [...(perOrder.get(b.FBillNo) ?? []), b]);
    for (const o of eligible)
      expect([o.order_no, perOrder.get(String(o.order_no))?.length]).toEqual([o.order_no, 1]);
    expect(all).toHaveLength(eligible.length);

    // Content: the seed's mapping, field by field, for one order.
    const sample = eligible[0];
    const bill = perOrder.get(String(sample.order_no))![0];
    expect(bill.FDocumentStatus).toBe('C');
    expect(bill.FSupplierID).toMatchObject({ FNumber: sample.provider_no });
    expect(String(bill.FDate)).toContain(String(sample.consign_time).slice(0, 10));
    const lines = sample.details_list as Array<{ spec_no: string; goods_count: string }>;
    expect(bill.FPURMRBENTRY.map((e) => (e.FMATERIALID as { FNumber: string }).FNumber)).toEqual(
      lines.map((l) => l.spec_no),
    );
    expect(bill.FPURMRBENTRY.map((e) => Number(e.FRMREALQTY))).toEqual(
      lines.map((l) => Number(l.goods_count)),
    );
    expect(
      bill.FPURMRBENTRY.every((e) => (e.FSTOCKID as { FNumber: string }).FNumber === sample.warehouse_no),
    ).toBe(true);

    const rows = new Map((await outcomes()).map((r) => [r.source_key, r]));
    for (const o of eligible) expect(rows.get(String(o.order_no))).toMatchObject({ status: 'loaded' });
    expect(rows.get('E2E-NOLINES')).toMatchObject({ status: 'skipped' });
    expect(rows.get('E2E-NOLINES')!.reason).toMatch(/goods lines/);
    // Refused only for base data: it waits, saying which code is missing (and Kingdee's words).
    expect(rows.get('E2E-UNKNOWN-SKU')).toMatchObject({ status: 'waiting_base_data' });
    expect(rows.get('E2E-UNKNOWN-SKU')!.error_message).toContain(
      'material NOSUCH-SKU-001 does not exist in Kingdee',
    );
    expect(rows.get('E2E-UNKNOWN-SKU')!.error_message).toMatch(/物料|FMATERIALID/);
  });

  it('replaying the raw topic from the beginning creates no new bill', async () => {
    const before = (await bills()).length;
    const env = { ...process.env, ...stack.serviceEnv('transformer') };
    const { stdout } = await run(
      process.execPath,
      [resolve(root, 'dist/apps/cli/src/replay.js'), '--from', 'beginning', '--quiet'],
      { env },
    );
    expect(stdout).toMatch(/replayed \d+ messages/);
    await eventually(
      'the loader to see the replayed documents',
      async () => {
        const [{ n }] = await ds.query(
          `SELECT count(*)::int AS n FROM audit_history WHERE status = 'duplicate'`,
        );
        return n >= before;
      },
      90_000,
    );
    expect((await bills()).length).toBe(before);
  });

  it('shuts a service down cleanly on SIGTERM (in-flight work finished, offsets committed) and it resumes', async () => {
    const transformer = stack.processes.get('transformer')!;
    expect(await transformer.stop()).toBe(true);
    await stack.restart('transformer');
    const res = await fetch(`${stack.url('transformer')}/ready`);
    expect(res.status).toBe(200);
  });

  it('refuses operator requests without a valid token', async () => {
    const api = `${stack.url('operator')}/api/audit/stats`;
    expect((await fetch(api)).status).toBe(401);
    expect((await fetch(api, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(
      401,
    );
    expect((await fetch(api, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('re-pushing an order waiting for base data after the code was added loads it', async () => {
    await stack.kingdeeAdmin('POST', '/base-data', { materials: ['NOSUCH-SKU-001'] });
    const res = await fetch(`${stack.url('operator')}/api/repush`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ orderNos: ['E2E-UNKNOWN-SKU'] }),
    });
    expect(res.status).toBeLessThan(300);
    await eventually(
      'the re-pushed order to load',
      async () => (await outcomes()).find((r) => r.source_key === 'E2E-UNKNOWN-SKU')?.status === 'loaded',
      90_000,
    );
    const again = (await bills()).filter((b) => b.FBillNo === 'E2E-UNKNOWN-SKU');
    expect(again).toHaveLength(1);
    const [action] = await ds.query(
      `SELECT token_name, action FROM operator_actions WHERE action LIKE 'repush%' ORDER BY at DESC LIMIT 1`,
    );
    expect(action.token_name).toBe('demo');
  });
});
