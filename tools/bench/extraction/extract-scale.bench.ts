#!/usr/bin/env node
/**
 * Extractor memory at scale (a benchmark program, not a test): the extractor's RSS after 10k, 100k and
 * 1M orders extracted, and orders/s, over a lazily generated WDT sandbox.
 *
 * The parent starts the WDT sandbox in-process with a lazy order set (`POST /admin/orders/generate`:
 * nothing stored per order, so a million orders cost the sandbox no memory), zero latency and no
 * sandbox rate limit, and a throw-away raw topic with small retention (retention.bytes/segment.bytes per
 * partition, so ~5 KB × N events do not fill the disk; deleted afterwards) and a throw-away Postgres
 * schema. A child process is the extractor, wired like the extractor service: validated extractor
 * config → `createWdtClient` over HTTP, `KafkaRawEventSink` on an `EventProducer`,
 * `PostgresExtractionStore`, the real `ExtractionService` with the shipped scheme's settings (page size,
 * windows, lookback…) unchanged — only the client rate limit is raised — and no heap cap. It calls the
 * public `poll()` until every order is on the topic.
 *
 * The child counts the events it publishes and, when the count crosses 10k, 100k and 1M (those ≤ N),
 * records its RSS now and its peak so far; it prints progress every 15 s. Exit code 1 when an order is
 * missing, or the peak exceeds `--budget-mb` (default 150) or the growth from the first to the last
 * milestone exceeds `--growth-mb` (default 20).
 *
 *   npm run bench:extract-scale -- --orders 1000000
 *
 * Every option also reads an environment variable (BENCH_ORDERS, …; see --help).
 */
import { loadavg } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigResourceTypes } from 'kafkajs';
import { formatShanghai, serviceNodeFlags, silentLogger, systemClock } from '@libs/common';
import {
  answerParent,
  createIsolatedEnv,
  envInt,
  intArg,
  mb,
  RssSampler,
  runChild,
  settle,
} from '@tools/devstack';
import { ExtractionService, KafkaRawEventSink, PostgresExtractionStore } from '@libs/extraction';
import { Scheme, loadSchemeFile, pageSizeOf } from '@libs/scheme';
import { connectExtractor, ExtractorTargets, extractorTargets, postOrderSet } from './extractor-bench.util';

interface Options {
  orders: number;
  latencyMs: number;
  clientCpm: number;
  days: number;
  partitions: number;
  retentionMb: number;
  budgetMb: number;
  growthMb: number;
  maxPolls: number;
  heapMb?: number;
  scheme: string;
  child?: boolean;
}

interface ChildConfig extends ExtractorTargets {
  orders: number;
  milestones: number[];
  schemeFile: string;
  schemeId: string;
  initialCursor: string;
  maxPolls: number;
}

interface Milestone {
  orders: number;
  elapsedMs: number;
  rssNowBytes: number;
  peakSoFarBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
}

interface ChildResult {
  pageSize: number;
  elapsedMs: number;
  emitted: number;
  fetched: number;
  httpCalls: number;
  polls: number;
  rssBeforeBytes: number;
  peakRssBytes: number;
  rssEndBytes: number;
  milestones: Milestone[];
}

const MILESTONES = [10_000, 100_000, 1_000_000];

// ---------------------------------------------------------------------------------------------
// Child: the extractor under test.

async function child(cfg: ChildConfig): Promise<ChildResult> {
  const rss = new RssSampler().start(50);
  const shipped = loadSchemeFile(cfg.schemeFile);
  // Shipped settings; only the id (fresh fingerprints) and where the first poll starts.
  const scheme: Scheme = {
    ...shipped,
    id: cfg.schemeId,
    source: { ...shipped.source, cursor: { ...shipped.source.cursor, initial: cfg.initialCursor } },
  };
  const { config, producer, ds, client, sid, rawEventSink } = await connectExtractor(
    cfg,
    'bench-extractor-scale',
  );

  const milestones: Milestone[] = [];
  const pending = [...cfg.milestones];
  let emitted = 0;
  let t0 = 0;
  const mark = () => {
    while (pending.length > 0 && emitted >= pending[0]) {
      const m = process.memoryUsage();
      rss.sample();
      milestones.push({
        orders: pending.shift()!,
        elapsedMs: performance.now() - t0,
        rssNowBytes: m.rss,
        peakSoFarBytes: Math.max(m.rss, process.resourceUsage().maxRSS * 1024),
        heapUsedBytes: m.heapUsed,
        externalBytes: m.external,
      });
    }
  };
  // Counts what the real sink published (acknowledged by Kafka); adds nothing else.
  class CountingSink extends KafkaRawEventSink {
    override async publish(...args: Parameters<KafkaRawEventSink['publish']>) {
      await super.publish(...args);
      emitted += args[0].length;
      mark();
    }
  }
  const sink = rawEventSink(CountingSink);
  const service = new ExtractionService(
    scheme,
    client,
    new PostgresExtractionStore(ds),
    sink,
    systemClock,
    { sid, method: scheme.source.method },
    silentLogger,
    undefined,
    config.EXTRACTOR_RECORD_REREADS,
  );

  const rssBefore = settle(rss);
  t0 = performance.now();
  const progress = setInterval(() => {
    const s = (performance.now() - t0) / 1000;
    console.log(
      `  … ${emitted} extracted in ${s.toFixed(0)} s (${Math.round(emitted / s)}/s), ` +
        `RSS ${mb(process.memoryUsage().rss)} MB`,
    );
  }, 15_000);
  progress.unref();
  let fetched = 0;
  let httpCalls = 0;
  let polls = 0;
  try {
    // The first poll normally reads everything; more polls only if the service stops early.
    while (emitted < cfg.orders && polls < cfg.maxPolls) {
      const stats = await service.poll();
      polls += 1;
      if (!stats) throw new Error('scheme paused');
      fetched += stats.fetched;
      httpCalls += stats.httpCalls;
      if (stats.fetched === 0) break;
    }
  } finally {
    clearInterval(progress);
    await producer.disconnect();
    await ds.destroy();
  }
  const elapsedMs = performance.now() - t0;
  return {
    pageSize: pageSizeOf(scheme, 'native'),
    elapsedMs,
    emitted,
    fetched,
    httpCalls,
    polls,
    rssBeforeBytes: rssBefore,
    peakRssBytes: rss.peakBytes(),
    rssEndBytes: process.memoryUsage().rss,
    milestones,
  };
}

// ---------------------------------------------------------------------------------------------
// Parent: lazy sandbox, throw-away topic and schema, report.

async function main(opts: Options): Promise<number> {
  const n = opts.orders;
  const milestones = MILESTONES.filter((m) => m <= n);
  if (!milestones.includes(n)) milestones.push(n);
  console.log(
    `extract-scale bench: ${n} orders (lazy sandbox), shipped scheme ${opts.scheme} except client limit ` +
      `${opts.clientCpm} calls/min, WDT latency ${opts.latencyMs} ms/call, sandbox limit off, raw topic ` +
      `${opts.partitions} partitions with retention.bytes ${opts.retentionMb} MB per partition, ` +
      `child node ${[...serviceNodeFlags('extractor'), ...(opts.heapMb ? [`--max-old-space-size=${opts.heapMb}`] : [])].join(' ') || '(no flags)'}${opts.heapMb ? '' : ' (no heap cap)'}, node ${process.version}; ` +
      `load average ${loadavg()[0].toFixed(2)}`,
  );

  // Loaded here, not at the top: the child must not carry the sandbox (and faker) in its RSS.
  const { startWdtSandbox } = await import('../../../apps/wdt-sandbox/src');
  const isolated = await createIsolatedEnv('extractscale', {
    prefix: 'bench',
    partitions: opts.partitions,
    poolSize: 2,
  });
  const retentionBytes = opts.retentionMb * 1024 * 1024;
  await isolated.admin.alterConfigs({
    validateOnly: false,
    resources: [
      {
        type: ConfigResourceTypes.TOPIC,
        name: isolated.topics.rawStockout,
        configEntries: [
          { name: 'retention.bytes', value: String(retentionBytes) },
          { name: 'segment.bytes', value: String(Math.max(1_048_576, Math.floor(retentionBytes / 4))) },
          { name: 'retention.ms', value: String(3_600_000) },
        ],
      },
    ],
  });
  const sandbox = await startWdtSandbox({
    port: 0,
    knobs: { latencyMs: opts.latencyMs, callsPerMinute: 0 },
  });
  try {
    const now = Date.now();
    const from = formatShanghai(now - opts.days * 86_400_000);
    const to = formatShanghai(now - 10 * 60_000);
    await postOrderSet(
      sandbox.url,
      'generate',
      { count: n, seed: 20261204, from, to, statusWeights: { '95': 3, '110': 4 } },
      'generate',
    );
    console.log(`lazy set: ${n} orders ${from} – ${to}`);

    const r = await runChild<ChildResult>(
      __filename,
      {
        orders: n,
        milestones,
        schemeFile: opts.scheme,
        schemeId: `bench-extract-scale-${isolated.suffix}`,
        initialCursor: from,
        maxPolls: opts.maxPolls,
        ...extractorTargets(sandbox, isolated, opts.clientCpm),
      } satisfies ChildConfig,
      [...serviceNodeFlags('extractor'), ...(opts.heapMb ? [`--max-old-space-size=${opts.heapMb}`] : [])],
    );
    const offsets = await isolated.admin.fetchTopicOffsets(isolated.topics.rawStockout);
    const written = offsets.reduce((sum, p) => sum + Number(p.high), 0);
    const calls = sandbox.state.stats.snapshot().calls.native;

    console.log(
      `extracted ${r.emitted} of ${n} (fetched ${r.fetched}, ${written} written to the topic) in ` +
        `${(r.elapsedMs / 1000).toFixed(1)} s = ${Math.round(r.emitted / (r.elapsedMs / 1000))} orders/s; ` +
        `${r.httpCalls} calls (sandbox saw ${calls}), page size ${r.pageSize}, ${r.polls} poll(s)`,
    );
    console.log(
      '| orders extracted | elapsed | orders/s (since previous) | RSS now | peak RSS so far | V8 heap used | Buffers |',
    );
    console.log('|---:|---:|---:|---:|---:|---:|---:|');
    let prev = { orders: 0, elapsedMs: 0 };
    for (const m of r.milestones) {
      const rate = (m.orders - prev.orders) / ((m.elapsedMs - prev.elapsedMs) / 1000);
      console.log(
        `| ${m.orders.toLocaleString('en')} | ${(m.elapsedMs / 1000).toFixed(1)} s | ${Math.round(rate)} | ` +
          `${mb(m.rssNowBytes)} MB | ${mb(m.peakSoFarBytes)} MB | ${mb(m.heapUsedBytes)} MB | ${mb(m.externalBytes)} MB |`,
      );
      prev = m;
    }
    const first = r.milestones[0];
    const last = r.milestones.at(-1);
    const growth = first && last ? last.peakSoFarBytes - first.peakSoFarBytes : 0;
    const peakOk = r.peakRssBytes / 1024 / 1024 <= opts.budgetMb;
    const growthOk = growth / 1024 / 1024 <= opts.growthMb;
    console.log(
      `extractor child: RSS before the first poll ${mb(r.rssBeforeBytes)} MB, peak ${mb(r.peakRssBytes)} MB ` +
        `(budget ${opts.budgetMb} MB) ${peakOk ? 'PASS' : 'FAIL'}, at the end ${mb(r.rssEndBytes)} MB; ` +
        `peak growth ${first?.orders ?? 0} → ${last?.orders ?? 0} orders: ${mb(growth)} MB ` +
        `(goal ≤ ${opts.growthMb} MB) ${growthOk ? 'PASS' : 'FAIL'}, RSS-now growth ` +
        `${mb(first && last ? last.rssNowBytes - first.rssNowBytes : 0)} MB; ` +
        `sandbox + harness (parent) peak ${mb(process.resourceUsage().maxRSS * 1024)} MB; ` +
        `load average ${loadavg()[0].toFixed(2)}`,
    );
    if (r.emitted !== n || written !== n) {
      console.error(`expected ${n} orders emitted and written to the topic`);
      return 1;
    }
    return peakOk && growthOk ? 0 : 1;
  } finally {
    await sandbox.close();
    await isolated.cleanup();
  }
}

const program = new Command()
  .name('extract-scale-bench')
  .description("The extractor's RSS at 10k, 100k and 1M orders over a lazily generated WDT sandbox.")
  .option(
    '-n, --orders <n>',
    'orders generated and extracted (BENCH_ORDERS)',
    intArg,
    envInt('BENCH_ORDERS', 100_000),
  )
  .option(
    '-l, --latency-ms <n>',
    'sandbox latency per call (BENCH_LATENCY_MS)',
    intArg,
    envInt('BENCH_LATENCY_MS', 0),
  )
  .option(
    '--client-cpm <n>',
    'client rate limit, calls/min — raised from the shipped 50–60 (BENCH_CLIENT_CPM)',
    intArg,
    envInt('BENCH_CLIENT_CPM', 100_000),
  )
  .option('--days <n>', 'generated span in days before now (BENCH_DAYS)', intArg, envInt('BENCH_DAYS', 7))
  .option(
    '--partitions <n>',
    'raw topic partitions (BENCH_PARTITIONS)',
    intArg,
    envInt('BENCH_PARTITIONS', 6),
  )
  .option(
    '--retention-mb <n>',
    'raw topic retention.bytes per partition, MB (segments a quarter of it) (BENCH_RETENTION_MB)',
    intArg,
    envInt('BENCH_RETENTION_MB', 64),
  )
  .option('-b, --budget-mb <n>', 'peak RSS goal, MB', intArg, 150)
  .option('--growth-mb <n>', 'goal for peak growth from the first to the last milestone, MB', intArg, 20)
  .option('--heap-mb <n>', "child's --max-old-space-size (default: none — the goal is without a cap)", intArg)
  .option('--max-polls <n>', 'polls at most (the first normally reads everything)', intArg, 20)
  .option('-s, --scheme <file>', 'scheme file', 'schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml')
  .option('--child', '(internal) run as the measured child', false)
  .action(async (opts: Options) => {
    if (opts.child) return answerParent<ChildConfig, unknown>('extractor', child);
    if (opts.orders < 1 || opts.clientCpm < 1)
      throw new InvalidArgumentError('--orders and --client-cpm must be ≥ 1');
    process.exitCode = await main(opts);
  });
program.parseAsync().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
