import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { formatShanghai } from '@libs/common';

import { StackRunner } from '@tools/devstack';
import { DataSource } from 'typeorm';
import { eventually } from '../support/test-env';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';
const ORDERS = 400;
/** Faults a real install produces, at rates that fire each one ≥ 10 times over the run's writes. */
const FAULTS = {
  http5xxAfterCommitRate: 0.1,
  lateCommitRate: 0.06,
  lateCommitHoldMs: 6000,
  lateCommitLocksSession: false,
  lostResponseRate: 0.1,
  exceptionAfterSaveRate: 0.06,
  throttleRate: 0.05,
  sessionCallLimit: 5,
  faultMethods: ['BatchSave'],
};
const INJECTED = [
  'http5xxAfterCommit',
  'lateCommit',
  'lostResponse',
  'exceptionAfterSave',
  'throttled',
  'sessionCallLimit',
];

interface Bill {
  FBillNo: string;
  FDESCRIPTION?: string;
  FDocumentStatus: string;
}

/** The shipped scheme as this run's deployment needs it (one model per BatchSave: many writes, many faults). */
function schemesDir(keyField: 'FBillNo' | 'FDESCRIPTION'): string {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-schemes-'));
  const scheme = parse(readFileSync(join(root, 'schemes', `${SCHEME}.yaml`), 'utf8'));
  scheme.target.batchSize = 1;
  if (keyField === 'FDESCRIPTION') {
    scheme.target.idempotencyKey = { field: 'FDESCRIPTION', source: '{{order_no}}' };
    scheme.mapping.header.FDESCRIPTION = { template: '{{order_no}}', required: true };
  }
  writeFileSync(join(dir, `${SCHEME}.yaml`), stringify(scheme));
  return dir;
}

/**
 * The write protocol end to end: every service a process, ≥ 300 orders, Kingdee hostile as a real
 * install is (5xx after commit, late commits, lost replies, MsgCode 4 after save, throttling, sessions
 * dying every 5 calls), the loader SIGKILLed twice, a second loader replica started and stopped
 * mid-run (real rebalances) and `replay --stage load` running beside the live loader.
 */
describe.each([
  {
    label: 'duplicate numbers rejected, FBillNo as key',
    key: 'FBillNo' as const,
    switches: { duplicateBillNo: 'reject' },
  },
  {
    label: 'a numbering rule, FDESCRIPTION as key',
    key: 'FDESCRIPTION' as const,
    switches: { numbering: 'erp', duplicateBillNo: 'accept' },
  },
])('exactly once end to end ($label)', ({ key, switches }) => {
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
  let stack: StackRunner;
  let ds: DataSource;

  const bills = async (): Promise<Bill[]> => {
    const out: Bill[] = [];
    for (let page = 1; ; page++) {
      const res = await stack.kingdeeAdmin('GET', `/bills?page=${page}&pageSize=1000`);
      out.push(...res.items);
      if (res.items.length < 1000) return out;
    }
  };
  const keyOf = (b: Bill) => String(key === 'FBillNo' ? b.FBillNo : b.FDESCRIPTION);
  const loadedClaims = async () =>
    (await ds.query(`SELECT count(*)::int AS n FROM bill_claims WHERE state = 'loaded'`))[0].n as number;

  beforeAll(async () => {
    stack = new StackRunner({
      root,
      brokers,
      databaseUrl,
      schemesDir: schemesDir(key),
      services: ['audit-writer', 'loader', 'transformer', 'extractor'],
      env: { LOG_LEVEL: 'warn' },
      serviceEnv: {
        loader: {
          KINGDEE_TIMEOUT_MS: '3000',
          KINGDEE_SERVER_EXECUTION_TIMEOUT_MS: '9000',
          LOADER_LEASE_MS: '4000',
          LOADER_LEASE_SKEW_MS: '500',
          LOADER_SETTLE_POLL_MS: '500',
          LOADER_AUDIT_RETRY_MS: '1000',
          LOADER_SHUTDOWN_GRACE_MS: '5000',
        },
      },
      kingdee: { switches, knobs: FAULTS },
    });
    await stack.prepare();
    await stack.startSandboxes();
    const now = Date.now();
    await stack.wdtAdmin('POST', '/orders/seed', {
      count: ORDERS,
      seed: key === 'FBillNo' ? 9101 : 9102,
      from: formatShanghai(now - 2 * 86_400_000),
      to: formatShanghai(now - 5 * 60_000),
      statusWeights: { '95': 3, '110': 5 },
    });
    ds = await stack.openDataSource();
    await stack.startServices();
  });

  afterAll(async () => {
    await stack?.stop();
    await stack?.cleanup();
  });

  it('every eligible order ends as exactly one audited bill, none recorded failed, and the trail agrees with Kingdee', async () => {
    const orders: Array<Record<string, unknown>> = [];
    for (let page = 0; ; page++) {
      const res = await stack.wdtAdmin('GET', `/orders?page_no=${page}&page_size=200`);
      orders.push(...res.orders);
      if (res.orders.length < 200) break;
    }
    const eligible = orders.filter(
      (o) =>
        ['95', '110'].includes(String(o.status)) &&
        Array.isArray(o.details_list) &&
        o.details_list.length > 0,
    );
    expect(eligible.length).toBeGreaterThanOrEqual(300);

    const phase = async (what: string) =>
      process.stderr.write(
        `[e2e ${key}] ${what}: ${await loadedClaims()} loaded at ${new Date().toISOString()}\n`,
      );
    await eventually('the first bills', async () => (await loadedClaims()) >= 40, 120_000);
    await phase('first kill');
    await stack.restart('loader', 'kill');
    const replica = await stack.startReplica('loader', 'loader-2'); // joins the group: a rebalance
    await eventually('more bills', async () => (await loadedClaims()) >= 120, 120_000);
    await phase('replay + replica stop');
    const replay = run(
      process.execPath,
      [resolve(root, 'dist/apps/cli/src/replay.js'), '--from', 'beginning', '--stage', 'load', '--quiet'],
      { env: { ...process.env, ...stack.serviceEnv('loader'), LOG_LEVEL: 'warn' } },
    );
    expect(await replica.stop(15_000)).toBe(true); // leaves the group: another rebalance
    await eventually('more bills', async () => (await loadedClaims()) >= 200, 120_000);
    await phase('second kill');
    await stack.restart('loader', 'kill');
    const { stdout } = await replay;
    expect(stdout).toMatch(/replayed \d+ messages/);
    await phase('replay done');

    const want = new Set(eligible.map((o) => String(o.order_no)));
    await eventually(
      'every eligible order loaded, in Kingdee and in the audit trail',
      async () => {
        const rows: Array<{ source_key: string; status: string }> = await ds.query(
          `SELECT source_key, status FROM audit_orders WHERE scheme_id = $1`,
          [SCHEME],
        );
        const loaded = new Set(rows.filter((r) => r.status === 'loaded').map((r) => r.source_key));
        return [...want].every((o) => loaded.has(o));
      },
      240_000,
    );

    await phase('all loaded');
    const faults = await stack.kingdeeAdmin('GET', '/faults');
    process.stderr.write(`[e2e ${key}] faults ${JSON.stringify(faults)}\n`);
    for (const f of INJECTED) expect([f, faults.injected[f] >= 10]).toEqual([f, true]);
    expect(faults.commitsAfterClientGaveUp).toBeGreaterThanOrEqual(1);

    const all = await bills();
    const perKey = new Map<string, Bill[]>();
    for (const b of all) perKey.set(keyOf(b), [...(perKey.get(keyOf(b)) ?? []), b]);
    const counts = [...want].map((o) => [o, perKey.get(o)?.length ?? 0]);
    expect(counts.filter(([, n]) => n !== 1)).toEqual([]);
    expect(all.filter((b) => !want.has(keyOf(b)))).toEqual([]);
    expect(all.every((b) => b.FDocumentStatus === 'C')).toBe(true);

    // The trail agrees with Kingdee: loaded with the bill's number; nothing whose bill exists is "failed".
    const trail: Array<{ source_key: string; status: string; kingdee_number: string | null }> =
      await ds.query(`SELECT source_key, status, kingdee_number FROM audit_orders WHERE scheme_id = $1`, [
        SCHEME,
      ]);
    const byOrder = new Map(trail.map((r) => [r.source_key, r]));
    for (const b of all) {
      const row = byOrder.get(keyOf(b));
      expect([keyOf(b), row?.status, row?.kingdee_number]).toEqual([keyOf(b), 'loaded', b.FBillNo]);
    }
    expect(trail.filter((r) => r.status === 'failed')).toEqual([]);
  }, 600_000);
});
