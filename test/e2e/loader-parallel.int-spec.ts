import { StackRunner } from '@tools/devstack';
import { stackFixtures } from '../support/stack-fixtures';
import { eventually } from '../support/test-env';
import { docs, documentFor, SHIPPED, TEST_TIMINGS, wdtRecord } from '../loader/loader-harness';

const BATCH_SAVE = 'DynamicFormService.BatchSave';

/**
 * The loader as a process (dist/), on the real broker and Postgres, against the Kingdee sandbox over
 * HTTP: key-ordered parallel loading (more bills at once than partitions, one bill's documents in
 * order), committed offsets that never pass an unfinished record, and a member joining mid-run.
 */
describe('loader: key-ordered parallel loading', () => {
  const fx = stackFixtures('parallel');
  const { publish, states, billCount } = fx;
  let stack: StackRunner;

  const allLoaded = async (keys: string[]) => {
    const s = await states(keys);
    return keys.every((k) => s.get(k)?.state === 'loaded');
  };
  const expectOneBillEach = async (keys: string[]) => {
    const counts = await Promise.all(keys.map(async (k) => [k, await billCount(k)]));
    expect(counts).toEqual(keys.map((k) => [k, 1]));
  };

  const start = async (opts: {
    partitions: number;
    loader: Record<string, string>;
    knobs?: Record<string, unknown>;
    services?: boolean;
  }) => {
    stack = await fx.start({
      services: ['loader'],
      partitions: opts.partitions,
      env: { LOG_LEVEL: 'info' },
      serviceEnv: { loader: { ...TEST_TIMINGS, LOADER_SETTLE_POLL_MS: '500', ...opts.loader } },
      kingdee: { knobs: opts.knobs },
    });
  };

  it('one partition, four sessions: several BatchSaves at once, and one order’s versions end with the newest', async () => {
    await start({
      partitions: 1,
      loader: { KINGDEE_SESSIONS: '4', LOADER_BATCH_SIZE: '5' },
      knobs: { latencyMs: 300 },
    });
    const others = docs(SHIPPED, 'PAR', 40);
    // Three versions of one order in a row, among the others (same key: same partition, in order).
    const versions = ['1.0000', '2.0000', '3.0000'].map((qty) =>
      documentFor(SHIPPED, wdtRecord('PAR-VERSIONS', { qty })),
    );
    const list = [
      ...others.slice(0, 15),
      versions[0],
      ...others.slice(15, 30),
      versions[1],
      ...others.slice(30),
      versions[2],
    ];
    const keys = [...new Set(await publish(list))];
    expect(keys).toHaveLength(41);
    await stack.startServices();
    await eventually('every order loaded', () => allLoaded(keys), 120_000);
    await expectOneBillEach(keys);
    // More bills in flight than partitions held: Kingdee saw BatchSaves overlap.
    const stats = await stack.kingdeeAdmin('GET', '/stats');
    expect(stats.maxInFlightByService?.[BATCH_SAVE] ?? 0).toBeGreaterThan(1);
    expect(stats.maxInFlightByService?.[BATCH_SAVE]).toBeLessThanOrEqual(4); // KINGDEE_SESSIONS
    // The order's bill carries its newest version.
    const [bill] = (
      await stack.kingdeeAdmin('GET', `/bills/by-number/${encodeURIComponent(versions[2].billKey)}`)
    ).items;
    expect(Number(bill.FPURMRBENTRY[0].FRMREALQTY)).toBe(3);
  });

  it('killed with writes in flight and records waiting, then restarted: every order ends as exactly one bill', async () => {
    await start({
      partitions: 1,
      loader: { KINGDEE_SESSIONS: '4', LOADER_BATCH_SIZE: '3' },
      knobs: { latencyMs: 1500 },
    });
    const keys = await publish(docs(SHIPPED, 'KILL', 60));
    await stack.startServices();
    const loader = stack.processes.get('loader')!;
    // Some bills are done (offsets committed past them) while others are in flight and more wait.
    await eventually('some loaded and some in flight', async () => {
      const s = [...(await states(keys)).values()];
      return s.some((r) => r.state === 'loaded') && s.some((r) => r.state === 'writing');
    });
    await loader.kill();
    const left = [...(await states(keys)).values()].filter((r) => r.state === 'loaded').length;
    expect(left).toBeLessThan(60); // work remained: what was not finished must come again
    loader.start();
    await loader.waitReady(90_000);
    await eventually('every order loaded after the restart', () => allLoaded(keys), 120_000);
    await expectOneBillEach(keys);
  });

  it('a second loader joins while the first is busy with slow Kingdee calls: it loads its first bill, no duplicates', async () => {
    await start({
      partitions: 3,
      loader: { KINGDEE_SESSIONS: '1', LOADER_BATCH_SIZE: '2' },
      knobs: { latencyMs: 1500 },
    });
    const keys = await publish(docs(SHIPPED, 'JOIN', 36));
    await stack.startServices();
    await eventually('the first loader writing', async () =>
      [...(await states(keys)).values()].some((r) => r.state === 'writing'),
    );
    const second = await stack.startReplica('loader', 'loader-2');
    const suffix = `-${second.pid}`;
    // The second member's own write: a claim it holds, fenced (sent to Kingdee) …
    const own = await eventually(
      'a write by the second loader',
      async () => {
        const s = [...(await states(keys)).values()];
        const mine = s.filter((r) => r.owner?.endsWith(suffix) && r.last_write_at !== null);
        return mine.length > 0 ? mine.map((r) => r.bill_key) : undefined;
      },
      60_000,
    );
    // … whose bill arrives.
    await eventually(
      'the second loader’s first bill',
      async () => (await Promise.all(own.map(billCount))).some((n) => n > 0),
      60_000,
    );
    await eventually('every order loaded', () => allLoaded(keys), 180_000);
    await expectOneBillEach(keys);
  });
});
