// `npm run demo -- --shops 3`: several WDT shops into two Kingdee account sets through connections.
// Shops a, b, … (the last one through Qimen when there are three or more) share one deployment: two
// extractor and two loader replicas, one connections file, one scheme per shop extending one base
// (examples/schemes-multi-shop). The same order number exists in every shop and lands as one bill per
// shop; the summary shows each shop, each account's bills and each WDT app key's calls against its limit.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatShanghai } from '@libs/common';
import { createDataSource, initializeDataSource } from '@libs/database';
import { StackConnections, StackRunner, StackShop } from '@tools/devstack';

const say = (s = '') => process.stdout.write(`${s}\n`);
const pad = (s: unknown, n: number) =>
  String(s ?? '')
    .padEnd(n)
    .slice(0, n);

const ACCOUNTS = [
  { connection: 'acct-main', acctId: 'demo-acct-main', sessions: 4 },
  { connection: 'acct-second', acctId: 'demo-acct-second', sessions: 2, orgs: ['101', '201'] },
];
const CALLS_PER_MINUTE = 60;

interface ShopPlan extends StackShop {
  scheme: string;
  account: (typeof ACCOUNTS)[number];
}

/** Shops a, b, c, …: the first two into acct-main, then alternating; the last through Qimen (3+ shops). */
export function planShops(n: number): ShopPlan[] {
  return Array.from({ length: n }, (_, i) => {
    const letter = String.fromCharCode(97 + i);
    const gateway: 'native' | 'qimen' = n >= 3 && i === n - 1 ? 'qimen' : 'native';
    const account = ACCOUNTS[i < 2 ? 0 : (i - 1) % 2];
    return {
      connection: `shop-${letter}`,
      sid: `demo-shop-${letter}`,
      gateway,
      scheme: `shop-${letter}-pur-mrb`,
      account,
    };
  });
}

/** One small scheme file per shop, extending the shared base (the second account has organisation 201). */
function schemeFile(shop: ShopPlan): string {
  const lines = [
    'extends: bases/pur-mrb.base.yaml',
    `id: ${shop.scheme}`,
    `name: ${shop.connection} → ${shop.account.connection}`,
    `source: { connection: ${shop.connection}${shop.gateway === 'qimen' ? ', gateway: qimen' : ''} }`,
    `target: { connection: ${shop.account.connection} }`,
  ];
  if (shop.account.connection === 'acct-second')
    lines.push(
      'mapping:',
      '  header:',
      ...['FStockOrgId', 'FSettleOrgId', 'FPayOrgId', 'FOwnerIdHead'].map(
        (f) => `    ${f}: { const: '201', type: ref${f === 'FStockOrgId' ? ', required: true' : ''} }`,
      ),
    );
  return `${lines.join('\n')}\n`;
}

export async function runShopsDemo(opts: {
  root: string;
  brokers: string[];
  databaseUrl: string;
  shops: number;
  orders: number;
  seed: number;
  timeoutMs: number;
}): Promise<void> {
  if (!Number.isInteger(opts.shops) || opts.shops < 2 || opts.shops > 9)
    throw new Error(`--shops ${opts.shops}: give 2 to 9 shops`);
  const plan = planShops(opts.shops);
  const schemesDir = mkdtempSync(join(tmpdir(), 'demo-shops-'));
  cpSync(join(opts.root, 'examples/schemes-multi-shop/bases'), join(schemesDir, 'bases'), {
    recursive: true,
  });
  for (const shop of plan) writeFileSync(join(schemesDir, `${shop.connection}.yaml`), schemeFile(shop));
  const connections: StackConnections = {
    callsPerMinute: CALLS_PER_MINUTE,
    shops: plan.map(({ connection, sid, gateway }) => ({ connection, sid, gateway })),
    accounts: ACCOUNTS,
  };
  const stack = new StackRunner({
    root: opts.root,
    brokers: opts.brokers,
    databaseUrl: opts.databaseUrl,
    schemesDir,
    env: { LOG_LEVEL: 'warn' },
    connections,
  });
  try {
    say(
      `run ${stack.runId}: ${plan.length} shops into ${ACCOUNTS.length} Kingdee account sets, logs .infra/logs/${stack.runId}/`,
    );
    await stack.prepare();
    await stack.startSandboxes();
    const now = Date.now();
    const perShop = Math.max(1, Math.round(opts.orders / plan.length));
    for (const [i, shop] of plan.entries()) {
      await stack.wdtAdmin('POST', `/orders/seed?sid=${shop.sid}`, {
        count: perShop,
        seed: opts.seed + i,
        from: formatShanghai(now - 2 * 86_400_000),
        to: formatShanghai(now - 10 * 60_000),
        statusWeights: { '95': 4, '110': 6 },
      });
      // The same order number in every shop: one bill per shop, keyed `<sid>-<order_no>`.
      await stack.wdtAdmin('POST', `/orders?sid=${shop.sid}`, {
        orders: [
          {
            order_no: 'SAME-0001',
            status: 110,
            consign_time: formatShanghai(now - 3_600_000),
            warehouse_no: 'SH01',
            provider_no: 'GYS001',
            details_list: [{ spec_no: 'BWB-500-W', goods_count: '1.0000' }],
          },
        ],
      });
    }
    say('connections (config file written for the run; secrets by env):');
    for (const shop of plan)
      say(
        `  ${pad(shop.connection, 8)} sid ${pad(shop.sid, 12)} ${pad(shop.gateway, 6)} → ${shop.account.connection} (${shop.scheme})`,
      );
    await stack.startServices();
    await stack.startReplica('extractor', 'extractor-2');
    await stack.startReplica('loader', 'loader-2');
    say('services up: 2 extractors, transformer, 2 loaders, audit writer');

    const ds = await initializeDataSource(
      createDataSource({ url: opts.databaseUrl, schema: stack.schema, poolSize: 2 }),
      opts.databaseUrl,
    );
    try {
      const expected = perShop + 1;
      const deadline = Date.now() + opts.timeoutMs;
      let rows: Array<{ scheme_id: string; status: string; n: number }> = [];
      for (;;) {
        rows = await ds.query(
          `SELECT scheme_id, status, count(*)::int AS n FROM audit_orders GROUP BY scheme_id, status`,
        );
        const done = plan.every(
          (s) =>
            rows
              .filter(
                (r) =>
                  r.scheme_id === s.scheme && !['parked', 'settling', 'saved_not_audited'].includes(r.status),
              )
              .reduce((a, r) => a + r.n, 0) >= expected,
        );
        const total = rows.filter((r) => r.status === 'loaded').reduce((a, r) => a + r.n, 0);
        process.stdout.write(`\r  ${total} bills loaded`);
        if (done) break;
        if (Date.now() > deadline) throw new Error('timed out waiting for every shop; see the logs');
        await new Promise((r) => setTimeout(r, 500));
      }
      process.stdout.write('\n');
      say('\n================ several shops → Kingdee: summary ================');
      say(`  ${pad('shop', 8)} ${pad('account', 12)} ${pad('loaded', 7)} other outcomes`);
      for (const shop of plan) {
        const mine = rows.filter((r) => r.scheme_id === shop.scheme);
        const loaded = mine.find((r) => r.status === 'loaded')?.n ?? 0;
        const other = mine.filter((r) => r.status !== 'loaded').map((r) => `${r.status} ${r.n}`);
        say(
          `  ${pad(shop.connection, 8)} ${pad(shop.account.connection, 12)} ${pad(loaded, 7)} ${other.join(', ') || '-'}`,
        );
      }
      for (const account of ACCOUNTS) {
        const res = await stack.kingdeeAdmin('GET', `/bills?page=1&pageSize=200&acctId=${account.acctId}`);
        const same = res.items
          .map((b: { FBillNo: string }) => b.FBillNo)
          .filter((n: string) => n.endsWith('SAME-0001'));
        const count = (await stack.kingdeeAdmin('GET', `/bills/count?acctId=${account.acctId}`)) as {
          count: number;
        };
        say(`  ${account.connection}: ${count.count} bills; order SAME-0001 is ${same.sort().join(', ')}`);
      }
      const stats = await stack.wdtAdmin('GET', '/stats');
      say('  WDT app keys (calls in any sliding 60 s, never above the limit):');
      for (const [key, s] of Object.entries(
        stats.byAppKey as Record<
          string,
          { calls: number; maxInWindow: number; limit: number | null; sids: string[] }
        >,
      ))
        if (s.calls > 0)
          say(
            `    ${pad(key, 24)} ${pad(`${s.calls} calls`, 10)} peak ${s.maxInWindow}/${s.limit ?? '∞'} (${s.sids.join(', ')})`,
          );
      say('==================================================================');
    } finally {
      await ds.destroy();
    }
  } finally {
    await stack.stop();
    await stack.cleanup().catch(() => undefined);
    rmSync(schemesDir, { recursive: true, force: true });
  }
}
