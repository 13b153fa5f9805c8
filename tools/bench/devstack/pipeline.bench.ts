#!/usr/bin/env node
/**
 * Pipeline benchmark (a program, not a test): every service as its own process (extractor,
 * transformer, loader replicas, audit writer) on the real broker and Postgres, against the WDT and
 * Kingdee sandboxes over HTTP with the latencies and limits of the real APIs, at the services'
 * shipped defaults (the image's 96 MB heap cap, the shipped scheme) unless an option says otherwise.
 *
 * Modes:
 * - burst (default): N orders wait in WDT; prints orders/s from the first WDT call to the last bill,
 *   against the tighter of the two API bounds (WDT: calls/min × page size; Kingdee: sessions × batch
 *   size ÷ call latency).
 * - `--steady R --minutes M`: R orders/s are shipped (consign time = now) for M minutes; prints
 *   p50/p95/p99 of shipment → bill, overall and per minute (flat or rising).
 * - `--loaders K`: K loader replicas from the start (`--sessions` each); `--join-at B` starts one more
 *   replica once B bills exist and prints its start → first bill.
 *
 * Always prints each service's peak RSS (the kernel's high-water mark) and the load average, and
 * exits 1 if a bill is missing or duplicated. `--runs 3` repeats the whole run and prints the median.
 *
 *   npm run bench:pipeline -- --orders 2000 --gateway native --runs 3
 *   npm run bench:pipeline -- --steady 1 --minutes 10
 *   npm run bench:pipeline -- --orders 2484 --loaders 3 --sessions 1 --join-at 200
 */
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { formatShanghai } from '@libs/common';
import { loadSchemeFile, pageSizeOf } from '@libs/scheme';
import { AssignerProtocol } from 'kafkajs';
import { createKafka } from '@libs/kafka';
import { median, ManagedProcess, slidingWindowSeconds, StackRunner } from '@tools/devstack';

interface Options {
  orders: number;
  gateway: 'native' | 'qimen';
  latencyWdtMs: number;
  latencyKingdeeMs: number;
  wdtCpm: number;
  loaders: number;
  sessions?: number;
  joinAt?: number;
  steady?: number;
  prefill?: boolean;
  minutes: number;
  runs: number;
  partitions: number;
  heapMb?: number;
  env: string[];
  nodeFlags: string[];
  scheme: string;
}

interface RunResult {
  ordersPerS?: number;
  /** Burst: orders/s from the first bill to the last (start-up excluded). */
  fromFirstBillPerS?: number;
  elapsedMs?: number;
  latencies?: { p50: number; p95: number; p99: number; perMinuteP99: number[] };
  /** Bills each loader replica wrote (its /metrics), when there is more than one. */
  perLoader?: Record<string, number>;
  joinMs?: number;
  peakRssMb: Record<string, number>;
  cpuS: Record<string, number>;
  load: { max1m: number; mean1m: number };
  wdtCalls: number;
  kingdeeCalls: number;
  bills: number;
  missing: number;
  duplicated: number;
}

const ROOT = resolve(__dirname, '../../../..');
const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a positive number');
  return n;
};
const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a non-negative integer');
  return n;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};

/** The kernel's peak RSS of a process (VmHWM), in MB; NaN when it is gone. */
function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds a process has used (user + system, from /proc); NaN when it is gone. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Samples the 1-minute load average while the run goes. */
class LoadSampler {
  private readonly samples: number[] = [];
  private readonly timer = setInterval(() => this.samples.push(loadavg()[0]), 1000);
  stop(): { max1m: number; mean1m: number } {
    clearInterval(this.timer);
    const xs = this.samples.length ? this.samples : [loadavg()[0]];
    return { max1m: Math.max(...xs), mean1m: xs.reduce((a, b) => a + b, 0) / xs.length };
  }
}

/** Watches the Kingdee sandbox's bills: when each bill number first appeared (harness clock). */
class BillWatcher {
  readonly firstSeen = new Map<string, number>();
  private seen = 0;
  private stopped = false;
  private loop?: Promise<void>;
  duplicated = 0;

  constructor(private readonly stack: StackRunner) {}

  start(everyMs = 50): void {
    this.loop = (async () => {
      while (!this.stopped) {
        await this.poll().catch(() => undefined);
        await sleep(everyMs);
      }
    })();
  }

  get count(): number {
    return this.seen;
  }

  async poll(): Promise<void> {
    const { count } = (await this.stack.kingdeeAdmin('GET', '/bills/count')) as { count: number };
    const now = Date.now();
    // Bills are listed by FID: new ones are at the end.
    while (this.seen < count) {
      const page = Math.floor(this.seen / 1000) + 1;
      const reply = (await this.stack.kingdeeAdmin('GET', `/bills?page=${page}&pageSize=1000`)) as {
        items: Array<{ FBillNo: string }>;
      };
      const items = reply.items.slice(this.seen - (page - 1) * 1000);
      if (items.length === 0) break;
      for (const bill of items) {
        if (this.firstSeen.has(bill.FBillNo)) this.duplicated += 1;
        else this.firstSeen.set(bill.FBillNo, now);
      }
      this.seen += items.length;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.poll();
  }
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Waits until the loaders' consumer group is stable with `members` members holding every partition. */
async function groupSettled(stack: StackRunner, brokers: string[], members: number): Promise<void> {
  const admin = createKafka({ brokers, clientId: 'bench-pipeline' }).admin();
  await admin.connect();
  try {
    const groupId = `run.${stack.runId}.loader`;
    await waitFor(`${members} loaders in a stable group`, 120_000, async () => {
      const [group] = (await admin.describeGroups([groupId])).groups;
      if (group?.state !== 'Stable' || group.members.length !== members) return false;
      const held = group.members.reduce((n, m) => {
        const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        return n + Object.values(a?.assignment ?? {}).reduce((k, ps) => k + ps.length, 0);
      }, 0);
      return held > 0;
    });
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the transformer has put `count` documents on the document topic. */
async function documentsWaiting(stack: StackRunner, brokers: string[], count: number): Promise<void> {
  const admin = createKafka({ brokers, clientId: 'bench-pipeline' }).admin();
  await admin.connect();
  try {
    await waitFor(`${count} documents on ${stack.topics.kingdeeDocument}`, 600_000, async () => {
      const offsets = await admin.fetchTopicOffsets(stack.topics.kingdeeDocument);
      return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0) >= count;
    });
  } finally {
    await admin.disconnect();
  }
}

/** Loaded records counted by one loader's /metrics. */
async function loadedBy(stack: StackRunner, name: string): Promise<number> {
  const text = await (await fetch(`${stack.url(name)}/metrics`)).text();
  const m = /pipeline_records_total\{stage="loader",outcome="loaded"[^}]*\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

async function run(opts: Options, round: number): Promise<RunResult> {
  const extraEnv = Object.fromEntries(
    opts.env.map((kv) => {
      const i = kv.indexOf('=');
      if (i < 1) throw new Error(`--env takes NAME=value, got "${kv}"`);
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
  );
  const loaderEnv: Record<string, string> = { ...extraEnv };
  if (opts.sessions !== undefined) loaderEnv.KINGDEE_SESSIONS = String(opts.sessions);
  const heapEnv: Record<string, string> = opts.heapMb
    ? { NODE_OPTIONS: `--max-old-space-size=${opts.heapMb}` }
    : {};
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const stack = new StackRunner({
    root: ROOT,
    brokers,
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/wdt_kingdee',
    shippedDefaults: true,
    nodeFlags: opts.nodeFlags,
    partitions: opts.partitions,
    env: { LOG_LEVEL: 'warn', ...heapEnv, ...extraEnv },
    serviceEnv: { loader: loaderEnv },
    wdt: {
      gateway: opts.gateway,
      knobs: { callsPerMinute: opts.wdtCpm, latencyMs: opts.latencyWdtMs },
    },
    kingdee: { knobs: { latencyMs: opts.latencyKingdeeMs } },
  });
  const load = new LoadSampler();
  const watcher = new BillWatcher(stack);
  const rss: Record<string, number> = {};
  const procs: Array<[string, ManagedProcess]> = [];
  let result: RunResult | undefined;
  try {
    await stack.prepare();
    await stack.startSandboxes();
    let expected = 0;
    if (!opts.steady) {
      const now = Date.now();
      await stack.wdtAdmin('POST', '/orders/seed', {
        count: opts.orders,
        seed: 1000 + round,
        from: formatShanghai(now - 2 * 3_600_000),
        to: formatShanghai(now - 60_000),
        unknownCodeRate: 0,
        statusWeights: { '95': 1, '110': 1 },
      });
      expected = opts.orders;
    }
    await stack.wdtAdmin('POST', '/stats/reset');
    await stack.kingdeeAdmin('POST', '/stats/reset');
    const loaders = ['loader', ...Array.from({ length: opts.loaders - 1 }, (_, i) => `loader-${i + 2}`)];
    const startLoaders = () =>
      Promise.all([
        stack.startServices(['loader']),
        ...loaders.slice(1).map((n) => stack.startReplica('loader', n)),
      ]);
    const firstCall = async () => {
      await waitFor('the first WDT call', 120_000, async () => {
        const s = (await stack.wdtAdmin('GET', '/stats')) as { calls: Record<string, number> };
        return s.calls.native + s.calls.qimen > 0;
      });
      return Date.now();
    };
    let t0: number;
    if (opts.prefill) {
      // The loading stage alone: every document waits on its topic, then K loaders start at once
      // (their joins and rebalances count); the clock starts as they are started.
      await stack.startServices(['audit-writer', 'transformer', 'extractor']);
      await documentsWaiting(stack, brokers, opts.orders);
      watcher.start();
      t0 = Date.now();
      await startLoaders();
    } else {
      // The loaders are long-running replicas: they are up and their group is settled (K members,
      // every partition assigned) before the extractor makes its first call, which starts the clock.
      await Promise.all([stack.startServices(['audit-writer', 'transformer']), startLoaders()]);
      await groupSettled(stack, brokers, opts.loaders);
      const first = firstCall();
      await stack.startServices(['extractor']);
      watcher.start();
      t0 = await first;
    }

    if (opts.steady) {
      const shippedAt = new Map<string, number>();
      const total = Math.round(opts.steady * opts.minutes * 60);
      const spacing = 1000 / opts.steady;
      const start = Date.now();
      for (let i = 0; i < total; i++) {
        const due = start + i * spacing;
        if (due > Date.now()) await sleep(due - Date.now());
        const at = Date.now();
        const wall = formatShanghai(at);
        const reply = (await stack.wdtAdmin('POST', '/orders', {
          orders: [{ status: '95', consign_time: wall, modified: wall }],
          seed: 50_000 + round * 100_000 + i,
        })) as { upserted: Array<{ order_no: string }> };
        shippedAt.set(reply.upserted[0].order_no, at);
        if ((i + 1) % Math.max(1, Math.round(opts.steady * 60)) === 0)
          console.log(`  minute ${Math.round((i + 1) / opts.steady / 60)}: ${watcher.count} bills`);
      }
      expected = total;
      await waitFor(`${total} bills`, 120_000, () => watcher.count >= total);
      await watcher.stop();
      const lat: Array<{ at: number; ms: number }> = [];
      for (const [no, at] of shippedAt) {
        const seen = watcher.firstSeen.get(no);
        if (seen !== undefined) lat.push({ at: at - start, ms: seen - at });
      }
      const ms = lat.map((l) => l.ms);
      const perMinuteP99 = Array.from({ length: opts.minutes }, (_, m) =>
        quantile(
          lat.filter((l) => l.at >= m * 60_000 && l.at < (m + 1) * 60_000).map((l) => l.ms),
          0.99,
        ),
      );
      result = {
        latencies: {
          p50: quantile(ms, 0.5),
          p95: quantile(ms, 0.95),
          p99: quantile(ms, 0.99),
          perMinuteP99,
        },
        ...(await finish()),
      };
    } else {
      let joinMs: number | undefined;
      const join =
        opts.joinAt === undefined
          ? undefined
          : (async () => {
              await waitFor(`${opts.joinAt} bills`, 300_000, () => watcher.count >= opts.joinAt!);
              const name = `loader-${opts.loaders + 1}`;
              const started = Date.now();
              await stack.startReplica('loader', name);
              await waitFor(
                `${name}'s first bill`,
                120_000,
                async () => (await loadedBy(stack, name)) > 0,
              ).catch(async (e: Error) => {
                const text = await (await fetch(`${stack.url(name)}/metrics`)).text();
                const lines = text.split('\n').filter((l) => l.startsWith('pipeline_records_total'));
                throw new Error(`${e.message}; its counters: ${lines.join('; ') || 'none'}`);
              });
              joinMs = Date.now() - started;
            })();
      await waitFor(`${expected} bills`, 900_000, () => watcher.count >= expected);
      const t1 = Date.now();
      await join?.catch((e: Error) => console.error(`  join: ${e.message}`));
      await sleep(2000); // a duplicate written late would show now
      await watcher.stop();
      const firstBill = Math.min(...watcher.firstSeen.values());
      result = {
        elapsedMs: t1 - t0,
        ordersPerS: expected / ((t1 - t0) / 1000),
        fromFirstBillPerS: (expected - 1) / ((t1 - firstBill) / 1000),
        joinMs,
        ...(await finish()),
      };
    }
    return result;

    async function finish() {
      for (const [name, proc] of stack.processes) procs.push([name, proc]);
      const cpu: Record<string, number> = {};
      for (const [name, proc] of procs) {
        rss[name] = peakRssMb(proc.pid);
        cpu[name] = cpuSeconds(proc.pid);
      }
      const wdt = (await stack.wdtAdmin('GET', '/stats')) as { calls: Record<string, number> };
      const kd = (await stack.kingdeeAdmin('GET', '/stats')) as { requests: number };
      const bills = watcher.firstSeen.size;
      const loaderNames = [...stack.processes.keys()].filter((n) => /^loader(-\d+)?$/.test(n));
      const perLoader: Record<string, number> = {};
      if (loaderNames.length > 1)
        for (const n of loaderNames) perLoader[n] = await loadedBy(stack, n).catch(() => NaN);
      return {
        perLoader: loaderNames.length > 1 ? perLoader : undefined,
        peakRssMb: { ...rss },
        cpuS: cpu,
        load: load.stop(),
        wdtCalls: wdt.calls.native + wdt.calls.qimen,
        kingdeeCalls: kd.requests,
        bills,
        missing: Math.max(0, expected - bills),
        duplicated: watcher.duplicated,
      };
    }
  } finally {
    load.stop();
    await stack.stop().catch(() => undefined);
    await stack.cleanup().catch(() => undefined);
  }
}

/**
 * Bounds the figures cannot beat. Sustained rates (what the APIs allow over a long run) and, for a
 * burst of N orders, the run's own bound: WDT must hand over every page (the burst the sliding window
 * allows included) and Kingdee must take every batch, and the last page's orders still need a call.
 */
function bounds(opts: Options) {
  const scheme = loadSchemeFile(resolve(ROOT, opts.scheme));
  const pageSize = pageSizeOf(scheme, opts.gateway);
  const batch = Math.min(scheme.target.batchSize, 200);
  const sessions = (opts.sessions ?? 4) * opts.loaders;
  const callsPerBatch = scheme.target.requestOptions?.IsAutoSubmitAndAudit ? 1 : 3;
  const kdCallS = (opts.latencyKingdeeMs / 1000) * callsPerBatch;
  const wdt = (opts.wdtCpm / 60) * pageSize;
  const kingdee = (sessions * batch) / kdCallS;
  const n = opts.orders;
  const wdtS = slidingWindowSeconds(Math.ceil(n / pageSize), opts.wdtCpm, opts.latencyWdtMs / 1000);
  const kdS = Math.ceil(Math.ceil(n / batch) / sessions) * kdCallS;
  // With --prefill only the loading stage is timed.
  const run = opts.prefill ? n / kdS : n / Math.max(wdtS + kdCallS, kdS);
  return { pageSize, batch, sessions, wdt, kingdee, tighter: Math.min(wdt, kingdee), run };
}

async function main(): Promise<void> {
  const program = new Command('bench:pipeline')
    .option('--orders <n>', 'orders waiting in WDT (burst mode)', int, 2000)
    .addOption(new Option('--gateway <g>', 'WDT gateway').choices(['native', 'qimen']).default('native'))
    .option('--latency-wdt-ms <ms>', 'WDT sandbox latency per call', int, 150)
    .option('--latency-kingdee-ms <ms>', 'Kingdee sandbox latency per call', int, 300)
    .option('--wdt-cpm <n>', 'WDT sandbox limit: calls per sliding minute', int, 60)
    .option('--loaders <k>', 'loader replicas from the start', int, 1)
    .option('--sessions <n>', 'KINGDEE_SESSIONS per loader (default: shipped)', int)
    .option('--join-at <bills>', 'start one more loader once this many bills exist', int)
    .option(
      '--prefill',
      'every document waits on its topic before the loaders start (the loading stage alone)',
    )
    .option('--steady <perSecond>', 'ship this many orders per second instead of a burst', positive)
    .option('--minutes <m>', 'steady mode: how long', int, 10)
    .option('--runs <n>', 'repeat and print the median', int, 1)
    .option('--partitions <n>', 'partitions per topic (the catalogue default is 6)', int, 6)
    .option('--heap-mb <mb>', 'heap cap of every service, as the image sets it (0 = none)', int, 96)
    .option('--env <NAME=value...>', 'extra env for every service', [])
    .option(
      '--node-flags <flag...>',
      'extra Node flags for every service (e.g. --node-flags=--cpu-prof --node-flags=--cpu-prof-dir=/tmp/prof)',
      (v: string, prev: string[]) => [...prev, v],
      [],
    )
    .option(
      '--scheme <file>',
      'scheme (the stack loads schemes/)',
      'schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml',
    );
  program.parse();
  const opts = program.opts<Options>();
  const b = bounds(opts);
  console.log(
    `bench:pipeline ${opts.steady ? `steady ${opts.steady}/s × ${opts.minutes} min` : `${opts.orders} orders`}, ` +
      `${opts.gateway} (page ${b.pageSize}), WDT ${opts.latencyWdtMs} ms / ${opts.wdtCpm} calls/min, ` +
      `Kingdee ${opts.latencyKingdeeMs} ms, ${opts.loaders} loader(s) × ${opts.sessions ?? 'default'} session(s), ` +
      `${opts.partitions} partitions, ${opts.heapMb ? `heap cap ${opts.heapMb} MB` : 'no heap cap'}`,
  );
  console.log(
    `sustained bounds: WDT ${b.wdt.toFixed(1)} orders/s (calls/min × page ÷ 60), Kingdee ${b.kingdee.toFixed(1)} orders/s ` +
      `(${b.sessions} sessions × batch ${b.batch} ÷ latency) → tighter ${b.tighter.toFixed(1)}/s` +
      (opts.steady
        ? ''
        : `; this run's bound (${opts.orders} orders: the window's burst allowance, sequential pages, Kingdee calls) ${b.run.toFixed(1)}/s`),
  );
  const results: RunResult[] = [];
  let failed = false;
  for (let round = 1; round <= opts.runs; round++) {
    const r = await run(opts, round);
    results.push(r);
    const rss = Object.entries(r.peakRssMb)
      .filter(([n]) => !n.endsWith('sandbox'))
      .map(([n, v]) => `${n} ${v.toFixed(1)}`)
      .join(', ');
    const head = r.ordersPerS
      ? `${r.ordersPerS.toFixed(1)} orders/s (${(r.elapsedMs! / 1000).toFixed(1)} s; ${((r.ordersPerS / b.tighter) * 100).toFixed(0)} % of the sustained bound, ${((r.ordersPerS / b.run) * 100).toFixed(0)} % of the run's bound; first bill → last ${r.fromFirstBillPerS!.toFixed(1)}/s)`
      : `shipment → bill p50 ${r.latencies!.p50} ms, p95 ${r.latencies!.p95} ms, p99 ${r.latencies!.p99} ms; p99 per minute ${r.latencies!.perMinuteP99.join(' ')}`;
    console.log(
      `run ${round}: ${head}${r.joinMs !== undefined ? `; new loader's first bill ${(r.joinMs / 1000).toFixed(1)} s after its start` : ''}`,
    );
    console.log(
      `  bills ${r.bills}, missing ${r.missing}, duplicated ${r.duplicated}; WDT calls ${r.wdtCalls}, Kingdee calls ${r.kingdeeCalls}; ` +
        `peak RSS MB (budget 200): ${rss}; load avg 1m max ${r.load.max1m.toFixed(2)} mean ${r.load.mean1m.toFixed(2)}`,
    );
    console.log(
      `  CPU s: ${Object.entries(r.cpuS)
        .map(([n, v]) => `${n} ${v.toFixed(1)}`)
        .join(', ')}`,
    );
    if (r.perLoader)
      console.log(
        `  records loaded per replica: ${Object.entries(r.perLoader)
          .map(([n, v]) => `${n} ${v}`)
          .join(', ')}`,
      );
    if (r.missing > 0 || r.duplicated > 0) failed = true;
  }
  if (opts.runs > 1) {
    const pick = (f: (r: RunResult) => number | undefined) =>
      median(results.map(f).filter((x): x is number => x !== undefined));
    if (results[0].ordersPerS !== undefined)
      console.log(
        `median of ${opts.runs}: ${pick((r) => r.ordersPerS).toFixed(1)} orders/s (sustained bound ${b.tighter.toFixed(1)}, run's bound ${b.run.toFixed(1)}); ` +
          `first bill → last ${pick((r) => r.fromFirstBillPerS).toFixed(1)}/s` +
          (opts.joinAt !== undefined
            ? `; join → first bill ${(pick((r) => r.joinMs) / 1000).toFixed(1)} s`
            : ''),
      );
    else
      console.log(
        `median of ${opts.runs}: p50 ${pick((r) => r.latencies?.p50)} ms, p95 ${pick((r) => r.latencies?.p95)} ms, p99 ${pick((r) => r.latencies?.p99)} ms; ` +
          `p99 per minute ${results[0].latencies!.perMinuteP99.map((_, m) => pick((r) => r.latencies?.perMinuteP99[m])).join(' ')}`,
      );
    const services = Object.keys(results[0].peakRssMb).filter((n) => !n.endsWith('sandbox'));
    console.log(
      `peak RSS MB, median: ${services.map((n) => `${n} ${pick((r) => r.peakRssMb[n]).toFixed(1)}`).join(', ')}`,
    );
  }
  if (failed) {
    console.error('FAILED: a bill is missing or duplicated');
    process.exitCode = 1;
  }
}

void main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
