import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { formatShanghai } from '@libs/common';

import { StackConnections, StackRunner } from '@tools/devstack';
import { eventually } from '../support/test-env';

const root = resolve(__dirname, '../..');
/** Calls per sliding 60 s of every WDT app key: low, so that the backlog, a backfill beside it and the idle polls
 * of the other schemes together would overrun it if every process kept its own count. */
const L = 20;

/**
 * Connections end to end: five WDT shops (four native — two of them sharing one app key — and one
 * through Qimen) into three Kingdee account sets, with two extractor and two loader replicas, on the
 * real broker and Postgres. Schemes come from examples/schemes-multi-shop (one base, one small file per
 * shop). One Kingdee connection and one WDT connection are given a wrong secret.
 */
const CONNECTIONS: StackConnections = {
  callsPerMinute: L,
  shops: [
    // shop-a has a backlog; shop-b, on the same app key, must still progress beside it.
    { connection: 'shop-a', sid: 'shop-a', gateway: 'native', appkey: 'shared-appkey' },
    { connection: 'shop-b', sid: 'shop-b', gateway: 'native', appkey: 'shared-appkey' },
    { connection: 'shop-c', sid: 'shop-c', gateway: 'qimen' },
    { connection: 'shop-d', sid: 'shop-d', gateway: 'native' },
    { connection: 'shop-e', sid: 'shop-e', gateway: 'native', secretOverride: 'not-the-secret-0123456789' },
    { connection: 'shop-f', sid: 'shop-f', gateway: 'native' },
  ],
  accounts: [
    { connection: 'acct-main', acctId: 'acct-main-0001', sessions: 4 },
    { connection: 'acct-second', acctId: 'acct-second-0002', sessions: 2, orgs: ['101', '201'] },
    { connection: 'acct-bad', acctId: 'acct-bad-0003', secretOverride: 'not-the-kingdee-secret' },
  ],
};

/** One order of a shop, shipped within the last hour (inside every scheme's first window). */
function order(orderNo: string, minutesAgo: number): Record<string, unknown> {
  return {
    order_no: orderNo,
    status: 110,
    consign_time: formatShanghai(Date.now() - minutesAgo * 60_000),
    warehouse_no: 'SH01',
    provider_no: 'GYS001',
    details_list: [{ spec_no: 'BWB-500-W', goods_count: '2.0000' }],
  };
}

describe('connections end to end: several shops and account sets, shared limits, one bad secret each', () => {
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
  let stack: StackRunner;
  let ds: DataSource;
  let schemesDir: string;
  /** A backfill of shop A (its own process) run beside the extractors: it shares the app key's L. */
  let backfill: Promise<{ code: number | null; output: string }>;

  const audit = async (scheme: string) =>
    (await ds.query(
      `SELECT source_key, status, reason, error_message, kingdee_number, last_occurred_at
         FROM audit_orders WHERE scheme_id = $1`,
      [scheme],
    )) as Array<{
      source_key: string;
      status: string;
      reason: string | null;
      error_message: string | null;
      kingdee_number: string | null;
      last_occurred_at: Date;
    }>;
  const billNumbers = async (acctId: string): Promise<string[]> => {
    const out: string[] = [];
    for (let page = 1; ; page++) {
      const res = await stack.kingdeeAdmin('GET', `/bills?page=${page}&pageSize=200&acctId=${acctId}`);
      out.push(...res.items.map((b: { FBillNo: string }) => b.FBillNo));
      if (res.items.length < 200) return out.sort();
    }
  };

  beforeAll(async () => {
    schemesDir = mkdtempSync(join(tmpdir(), 'multi-shop-'));
    cpSync(join(root, 'examples/schemes-multi-shop'), schemesDir, { recursive: true });
    rmSync(join(schemesDir, 'README.md'), { force: true });
    // shop-a reads pages of 5: its 60-order backlog takes a dozen calls of the shared app key.
    writeFileSync(
      join(schemesDir, 'shop-a.yaml'),
      [
        'extends: bases/pur-mrb.base.yaml',
        'id: shop-a-pur-mrb',
        'name: shop A',
        'source: { connection: shop-a, pageSize: 5 }',
        'target: { connection: acct-main }',
      ].join('\n'),
    );
    writeFileSync(
      join(schemesDir, 'shop-d.yaml'),
      [
        'extends: bases/pur-mrb.base.yaml',
        'id: shop-d-pur-mrb',
        'name: shop D into the account whose secret is wrong',
        'source: { connection: shop-d }',
        'target: { connection: acct-bad }',
      ].join('\n'),
    );
    writeFileSync(
      join(schemesDir, 'shop-e.yaml'),
      [
        'extends: bases/pur-mrb.base.yaml',
        'id: shop-e-pur-mrb',
        'name: shop E, whose WDT secret is wrong',
        'source: { connection: shop-e }',
        'target: { connection: acct-main }',
      ].join('\n'),
    );
    // Shop F's scheme keys its bills as if it were shop A (a copy-paste mistake scheme:check refuses):
    // the loader must not write shop F's SAME-001 over shop A's bill of the same number.
    writeFileSync(
      join(schemesDir, 'shop-f.yaml'),
      [
        'extends: bases/pur-mrb.base.yaml',
        'id: shop-f-pur-mrb',
        'name: shop F, keyed like shop A',
        'source: { connection: shop-f }',
        "target: { connection: acct-main, idempotencyKey: { field: FBillNo, source: 'shop-a-{{order_no}}' } }",
        "mapping: { header: { FBillNo: { template: 'shop-a-{{order_no}}', required: true } } }",
      ].join('\n'),
    );
    stack = new StackRunner({
      root,
      brokers,
      databaseUrl,
      schemesDir,
      services: ['audit-writer', 'loader', 'transformer', 'extractor'],
      env: { LOG_LEVEL: 'warn' },
      connections: CONNECTIONS,
    });
    await stack.prepare();
    await stack.startSandboxes();
    const seed = async (sid: string, orders: Array<Record<string, unknown>>) =>
      stack.wdtAdmin('POST', `/orders?sid=${sid}`, { orders });
    // The same order number in three shops: two bills in acct-main (a, b), one in acct-second (c).
    await seed('shop-a', [
      order('SAME-001', 50),
      ...Array.from({ length: 60 }, (_, i) => order(`A-${String(i).padStart(3, '0')}`, 45 - i / 2)),
    ]);
    await seed('shop-b', [order('SAME-001', 50), order('B-001', 40), order('B-002', 20)]);
    await seed('shop-c', [order('SAME-001', 50), order('C-001', 30)]);
    await seed('shop-d', [order('D-001', 30)]);
    await seed('shop-e', [order('E-001', 30)]);
    await seed('shop-f', [order('SAME-001', 50), order('F-001', 25)]);
    ds = await stack.openDataSource();
    await stack.startServices();
    await stack.startReplica('extractor', 'extractor-2');
    await stack.startReplica('loader', 'loader-2');
    backfill = new Promise((done) => {
      const child = execFile(
        process.execPath,
        [
          join(root, 'dist/apps/cli/src/backfill.js'),
          '--from',
          formatShanghai(Date.now() - 3_600_000),
          '--to',
          formatShanghai(Date.now()),
          '--scheme',
          'shop-a-pur-mrb',
          '--force',
        ],
        { env: { ...process.env, ...stack.serviceEnv('extractor'), LOG_LEVEL: 'warn' }, timeout: 400_000 },
        (err, stdout, stderr) =>
          done({ code: err ? (child.exitCode ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await stack?.cleanup();
    rmSync(schemesDir, { recursive: true, force: true });
  });

  it('loads each shop into its own account: the same order number is two bills in one account and one in another', async () => {
    await eventually(
      'every good shop loaded',
      async () => {
        const [a, b, c] = await Promise.all([
          audit('shop-a-pur-mrb'),
          audit('shop-b-pur-mrb'),
          audit('shop-c-pur-mrb'),
        ]);
        const f = await audit('shop-f-pur-mrb');
        const loaded = (rows: typeof a) => rows.filter((r) => r.status === 'loaded').length;
        const final = (rows: typeof a) => rows.filter((r) => ['loaded', 'failed'].includes(r.status)).length;
        return loaded(b) === 3 && loaded(c) === 2 && final(a) === 61 && final(f) === 2;
      },
      300_000,
    );
    const main = await billNumbers('acct-main-0001');
    const second = await billNumbers('acct-second-0002');
    expect(main.filter((n) => n.endsWith('SAME-001'))).toEqual(['shop-a-SAME-001', 'shop-b-SAME-001']);
    expect(second).toEqual(['shop-c-C-001', 'shop-c-SAME-001']);
    // Exactly one bill per key: 61 of shop A (one of them maybe shop F's SAME-001), 3 of shop B, shop F's
    // F-001 (keyed shop-a-F-001), nothing of shop E (never read).
    expect(main).toHaveLength(65);
    expect(new Set(main).size).toBe(65);
    // shop-a-SAME-001 went to whichever scheme registered it first; the other order failed, naming it.
    const sameA = (await audit('shop-a-pur-mrb')).find((r) => r.source_key === 'SAME-001')!;
    const sameF = (await audit('shop-f-pur-mrb')).find((r) => r.source_key === 'SAME-001')!;
    const [won, lost, winner] =
      sameA.status === 'loaded' ? [sameA, sameF, 'shop-a-pur-mrb'] : [sameF, sameA, 'shop-f-pur-mrb'];
    expect(won.status).toBe('loaded');
    expect(lost.status).toBe('failed');
    expect(lost.error_message).toContain(
      `FBillNo "shop-a-SAME-001" is already the bill of scheme "${winner}"`,
    );
    expect(lost.error_message).toContain('acct-main-0001');
    const rows: Array<{ error_class: string }> = await ds.query(
      `SELECT error_class FROM audit_orders WHERE source_key = 'SAME-001' AND status = 'failed'`,
    );
    expect(rows).toEqual([{ error_class: 'identity_collision' }]);
    expect(await billNumbers('acct-bad-0003')).toEqual([]);
    // The raw events name their shop and connection.
    const audits = await audit('shop-c-pur-mrb');
    expect(audits.map((r) => r.kingdee_number).every(Boolean)).toBe(true);
  }, 320_000);

  it('lets a shop progress while another shop on the same app key has a backlog, and no app key exceeds its limit', async () => {
    // The backfill (another process on shop A's app key) finished beside the extractors.
    const run = await backfill;
    expect({ code: run.code, output: run.output.slice(-2000) }).toEqual({
      code: 0,
      output: run.output.slice(-2000),
    });
    // When each shop's orders were last read from WDT (the extractor's fingerprints): shop A's backlog
    // and the backfill beside it share the app key with shop B. Loading order says nothing here (the
    // loaders take whatever arrives), reading order does.
    const readAt: Array<{ scheme_id: string; last: Date; n: number }> = await ds.query(
      `SELECT scheme_id, max(last_emitted_at) AS last, count(*)::int AS n FROM stockout_fingerprints
        WHERE scheme_id IN ('shop-a-pur-mrb', 'shop-b-pur-mrb') GROUP BY scheme_id ORDER BY scheme_id`,
    );
    const [lastA, lastB] = readAt.map((r) => r.last.getTime());
    // Shop B was read while shop A still had pages to read: it did not wait behind A's backlog.
    expect({ readAt, bFirst: lastB < lastA }).toEqual({ readAt, bFirst: true });
    const stats = await stack.wdtAdmin('GET', '/stats');
    const keys = stats.byAppKey as Record<string, { calls: number; maxInWindow: number; limited: number }>;
    expect(keys['shared-appkey'].calls).toBeGreaterThan(12);
    for (const [key, s] of Object.entries(keys)) {
      expect({ key, maxInWindow: s.maxInWindow, atMost: L }).toEqual({
        key,
        maxInWindow: Math.min(s.maxInWindow, L),
        atMost: L,
      });
      expect({ key, limited: s.limited }).toEqual({ key, limited: 0 });
    }
  }, 300_000);

  it('a wrong secret stops only the schemes of its connection: their records park, the rest load', async () => {
    // Kingdee: shop D's order is extracted and mapped, then waits behind acct-bad's open circuit.
    await eventually(
      'shop D parked',
      async () =>
        (await audit('shop-d-pur-mrb')).find((r) => r.source_key === 'D-001' && r.status === 'parked'),
      120_000,
    );
    const [d] = (await audit('shop-d-pur-mrb')).filter((r) => r.source_key === 'D-001');
    expect(d.reason ?? d.error_message ?? '').toMatch(/acct-bad/);
    // WDT: shop E is never read; its scheme reports the refusal (others polled all along).
    const status = await eventually(
      'shop E reports the WDT refusal',
      async () => {
        const rows: Array<{ value: { lastError: string | null } }> = await ds.query(
          `SELECT value FROM service_status WHERE service = 'extractor' AND key = 'scheme:shop-e-pur-mrb'`,
        );
        return rows.find((r) => r.value.lastError);
      },
      120_000,
    );
    expect(status.value.lastError).toMatch(/auth|sign|appkey|签名/i);
    expect(await audit('shop-e-pur-mrb')).toEqual([]);
    // Two loaders of 4 sessions each on acct-second, whose cap is 2: never more than 2 at once.
    const second = await stack.kingdeeAdmin('GET', '/stats?acctId=acct-second-0002');
    expect(second.maxSessionsInUse).toBeGreaterThan(0);
    expect(second.maxSessionsInUse).toBeLessThanOrEqual(2);
    // Every replica stays ready: the other connections still accept them.
    for (const name of ['loader', 'loader-2', 'extractor', 'extractor-2']) {
      const res = await fetch(`${stack.url(name)}/ready`);
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
    }
  });
});
