import { readFileSync } from 'node:fs';
import { StackRunner } from '@tools/devstack';
import { stackFixtures } from '../support/stack-fixtures';
import { eventually } from '../support/test-env';
import { docs, SHIPPED } from '../loader/loader-harness';

/** The loader as a process: SIGTERM during a Kingdee outage, and SIGKILL with the shipped timeouts. */
describe('loader process lifecycle', () => {
  const fx = stackFixtures('lifecycle');
  const { states, billCount } = fx;
  let stack: StackRunner;

  const publish = (prefix: string, n: number) => fx.publish(docs(SHIPPED, prefix, n));

  const start = async (loaderEnv: Record<string, string>) => {
    stack = await fx.start({
      services: ['audit-writer', 'loader'],
      env: { LOG_LEVEL: 'info' },
      serviceEnv: { loader: loaderEnv },
    });
    await stack.startServices();
  };

  it('SIGTERM while Kingdee is down: the loader exits within its grace; the next one settles what it left', async () => {
    const grace = 5000;
    await start({
      KINGDEE_TIMEOUT_MS: '3000',
      KINGDEE_SERVER_EXECUTION_TIMEOUT_MS: '9000',
      LOADER_LEASE_MS: '4000',
      LOADER_LEASE_SKEW_MS: '500',
      LOADER_SETTLE_POLL_MS: '500',
      LOADER_SHUTDOWN_GRACE_MS: String(grace),
    });
    const first = await publish('TERM-A', 10);
    await eventually('the first bills', async () => {
      const s = await states(first);
      return first.every((k) => s.get(k)?.state === 'loaded');
    });
    // Kingdee goes down: every call times out (held), the circuit opens, documents settle or park.
    await stack.kingdeeAdmin('PATCH', '/knobs', { latencyMs: 4000, http5xxRate: 1 });
    const during = await publish('TERM-B', 10);
    // SIGTERM lands while a write is in flight (Kingdee answers after 4 s, with a 5xx).
    await eventually('a write in flight', async () =>
      [...(await states(during)).values()].some((r) => r.state === 'writing'),
    );
    const loader = stack.processes.get('loader')!;
    // Exits by itself (not SIGKILLed) within 3 × its grace.
    expect(await loader.stop(3 * grace)).toBe(true);
    // Its own account of the shutdown (the log file is flushed a moment after the exit).
    const stopped = await eventually('the "loader stopped" log line', async () =>
      /"ms":(\d+)[^\n]*"msg":"loader stopped"/.exec(readFileSync(loader.spec.logFile, 'utf8')),
    );
    expect(Number(stopped[1])).toBeLessThanOrEqual(grace);
    // Kingdee is back; the next loader settles and drains what the first one left.
    await stack.kingdeeAdmin('PATCH', '/knobs', { latencyMs: 0, http5xxRate: 0 });
    loader.start();
    await loader.waitReady(90_000);
    await eventually(
      'every bill loaded once',
      async () => {
        const s = await states([...first, ...during]);
        return [...first, ...during].every((k) => s.get(k)?.state === 'loaded');
      },
      90_000,
    );
    for (const k of [...first, ...during]) expect([k, await billCount(k)]).toEqual([k, 1]);
  });

  it('SIGKILL with the shipped timeouts: the next loader takes the bills over within 30 s', async () => {
    await start({}); // KINGDEE_TIMEOUT_MS 120 s, LOADER_LEASE_MS 20 s: the defaults
    const warm = await publish('KILL-WARM', 3);
    await eventually('the first bills', async () => {
      const s = await states(warm);
      return warm.every((k) => s.get(k)?.state === 'loaded');
    });
    await stack.kingdeeAdmin('PATCH', '/knobs', { latencyMs: 1500 });
    const keys = [...warm, ...(await publish('KILL', 30))];
    const loader = stack.processes.get('loader')!;
    const deadOwnerSuffix = `-${loader.pid}`;
    await eventually('claims in flight', async () => {
      const s = await states(keys);
      return [...s.values()].some((r) => r.state === 'writing');
    });
    await loader.kill();
    const held = [...(await states(keys)).values()].filter((r) => r.owner?.endsWith(deadOwnerSuffix));
    expect(held.length).toBeGreaterThan(0);
    loader.start();
    await loader.waitReady(90_000);
    // By events: the new loader reports the take-over (metric) and every claim the dead one held has
    // a new owner or an outcome, within 3 × the 30 s bound.
    await eventually(
      'the take-over',
      async () => {
        const metrics = await (await fetch(`${stack.url('loader')}/metrics`)).text();
        const taken = /^loader_claims_taken_over_total(?:\{[^}]*\})? (\d+)$/m.exec(metrics);
        const s = await states(held.map((r) => r.bill_key));
        return (
          Number(taken?.[1] ?? 0) > 0 && [...s.values()].every((r) => !r.owner?.endsWith(deadOwnerSuffix))
        );
      },
      90_000,
    );
    await stack.kingdeeAdmin('PATCH', '/knobs', { latencyMs: 0 });
    await eventually(
      'every bill loaded',
      async () => {
        const s = await states(keys);
        return keys.every((k) => s.get(k)?.state === 'loaded');
      },
      90_000,
    );
    for (const k of keys) expect([k, await billCount(k)]).toEqual([k, 1]);
  });
});
