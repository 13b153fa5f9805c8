import { resolve } from 'node:path';
import { formatShanghai } from '@libs/common';

import { PIPELINE_SERVICES, StackRunner } from '@tools/devstack';
import { DataSource } from 'typeorm';
import { KafkaCluster } from '../support/kafka-cluster';
import { eventually, readAll } from '../support/test-env';

const root = resolve(__dirname, '../..');
const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';

interface Bill {
  FBillNo: string;
  FDocumentStatus: string;
}

/**
 * Durability on a real cluster: three KRaft nodes (replication 3, min ISR 2, no unclean election),
 * the whole pipeline as processes, orders arriving throughout. Node 2 is killed -9 mid-run and comes
 * back 15 s later; once it has caught up in every ISR, node 3 is stopped (controlled shutdown moves its
 * leaderships) and started again. Nothing may be lost or doubled, and no service may need a restart.
 * This file starts and stops its own cluster; the rest of the suite keeps the single local broker.
 */
describe('three-broker cluster: a broker killed and another restarted mid-run', () => {
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
  const cluster = new KafkaCluster();
  let stack: StackRunner;
  let ds: DataSource;
  let seeds = 0;

  const seed = async (count: number, fromMsAgo: number, toMsAgo: number) => {
    const now = Date.now();
    await stack.wdtAdmin('POST', '/orders/seed', {
      count,
      seed: 7300 + seeds++,
      from: formatShanghai(now - fromMsAgo),
      to: formatShanghai(now - toMsAgo),
      statusWeights: { '95': 3, '110': 5 },
    });
  };
  const loaded = async () =>
    (await ds.query(`SELECT count(*)::int AS n FROM bill_claims WHERE state = 'loaded'`))[0].n as number;
  const phase = async (what: string) =>
    process.stderr.write(`[failover] ${what}: ${await loaded()} loaded at ${new Date().toISOString()}\n`);

  beforeAll(async () => {
    await cluster.up();
    stack = new StackRunner({
      root,
      brokers: cluster.brokers,
      databaseUrl,
      replicationFactor: 3,
      services: PIPELINE_SERVICES,
      env: { LOG_LEVEL: 'warn' },
      kingdee: {},
    });
    await stack.prepare();
    await stack.startSandboxes();
    await seed(200, 2 * 86_400_000, 10 * 60_000);
    ds = await stack.openDataSource();
    await stack.startServices();
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
    await stack?.cleanup().catch(() => undefined);
    await cluster.down();
  });

  it('every eligible order ends as exactly one bill and every fingerprint has its raw event', async () => {
    const topics = [...Object.values(stack.topics), '__consumer_offsets'];
    const meta = await stack.kingdeeAdmin('GET', '/bills?page=1&pageSize=1');
    expect(meta.items).toBeDefined();

    await eventually('the first bills', async () => (await loaded()) >= 15, 180_000);
    await phase('kill -9 node 2');
    await cluster.stopNode(2, 'kill');
    await seed(30, 3 * 60_000, 0); // orders keep arriving while a replica is gone
    // The scenario: the node stays away 15 s (a scenario step, not an assertion).
    await new Promise((r) => setTimeout(r, 15_000));
    await phase('node 2 back');
    await cluster.startNode(2);
    await eventually('node 2 back in every ISR', () => cluster.inEveryIsr(2, topics), 180_000);
    await phase('SIGTERM node 3');
    await seed(30, 3 * 60_000, 0);
    await cluster.stopNode(3, 'term');
    await seed(20, 2 * 60_000, 0);
    await cluster.startNode(3);
    await eventually('node 3 back in every ISR', () => cluster.inEveryIsr(3, topics), 180_000);
    await phase('cluster whole again');

    const orders: Array<Record<string, unknown>> = [];
    for (let page = 0; ; page++) {
      const res = await stack.wdtAdmin('GET', `/orders?page_no=${page}&page_size=200`);
      orders.push(...res.orders);
      if (res.orders.length < 200) break;
    }
    const eligible = new Set(
      orders
        .filter(
          (o) =>
            ['95', '110'].includes(String(o.status)) &&
            Array.isArray(o.details_list) &&
            o.details_list.length > 0,
        )
        .map((o) => String(o.order_no)),
    );
    expect(eligible.size).toBeGreaterThanOrEqual(100);
    await eventually(
      'every eligible order loaded in the audit trail',
      async () => {
        const rows: Array<{ source_key: string }> = await ds.query(
          `SELECT source_key FROM audit_orders WHERE scheme_id = $1 AND status = 'loaded'`,
          [SCHEME],
        );
        const done = new Set(rows.map((r) => r.source_key));
        return [...eligible].every((o) => done.has(o));
      },
      300_000,
    );
    await phase('all loaded');

    // Exactly one bill per eligible order, and no bill for anything else.
    const bills: Bill[] = [];
    for (let page = 1; ; page++) {
      const res = await stack.kingdeeAdmin('GET', `/bills?page=${page}&pageSize=500`);
      bills.push(...res.items);
      if (res.items.length < 500) break;
    }
    const perOrder = new Map<string, number>();
    for (const b of bills) perOrder.set(b.FBillNo, (perOrder.get(b.FBillNo) ?? 0) + 1);
    expect([...eligible].filter((o) => perOrder.get(o) !== 1)).toEqual([]);
    expect(bills.filter((b) => !eligible.has(b.FBillNo))).toEqual([]);

    // The extractor moved a fingerprint only after Kafka acknowledged the event (acks=all, min ISR 2).
    const fingerprints: Array<{ order_no: string; fingerprint: string }> = await ds.query(
      `SELECT order_no, fingerprint FROM stockout_fingerprints WHERE scheme_id = $1`,
      [SCHEME],
    );
    expect(fingerprints.length).toBeGreaterThanOrEqual(eligible.size);
    const raw = await readAll(
      { brokers: cluster.brokers },
      stack.topics.rawStockout,
      fingerprints.length,
      60_000,
    );
    const emitted = new Set(
      raw.map((m) => {
        const v = JSON.parse(m.value) as { orderNo: string; fingerprint: string };
        return `${v.orderNo}|${v.fingerprint}`;
      }),
    );
    expect(fingerprints.filter((f) => !emitted.has(`${f.order_no}|${f.fingerprint}`))).toEqual([]);

    // No service exited (none was restarted by the test or needed to be).
    for (const name of PIPELINE_SERVICES)
      expect([name, stack.processes.get(name)?.running]).toEqual([name, true]);
  }, 900_000);
});
