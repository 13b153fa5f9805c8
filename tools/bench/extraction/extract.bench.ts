#!/usr/bin/env node
/**
 * Extraction benchmark (not a test): orders/s of one real extractor poll over a seeded WDT sandbox.
 *
 * The parent process starts the WDT sandbox in-process (real HTTP on 127.0.0.1), seeds N shipped /
 * completed purchase-return stockouts through its admin API (`POST /admin/orders/seed`), creates a
 * throw-away raw topic on the real broker and a throw-away Postgres schema, then runs each round in a
 * fresh child process: a real `ExtractionService` wired like the extractor service (client from
 * `createWdtClient` over HTTP, `KafkaRawEventSink` on an `EventProducer`, `PostgresExtractionStore`)
 * doing one `poll()` whose window covers the seeded range. The child measures only itself, so its
 * peak RSS is the extractor's, not the sandbox's.
 *
 * Prints orders/s, API calls vs the minimum ceil(N / page size), the bounds set by the client rate
 * limit (calls/min × page size / 60) and by latency with sequential paging (page size / latency),
 * the ratio to the tighter one, where the time went (paging, publishing, Postgres), and peak RSS
 * against the budget (default 200 MB). Exit code 1 when an order is missing or RSS is over budget.
 *
 *   npm run bench:extract -- --orders 10000 --latency-ms 50 --client-cpm 600
 *
 * Every option also reads an environment variable (BENCH_ORDERS, BENCH_LATENCY_MS, …; see --help).
 */
import { Command, InvalidArgumentError } from 'commander';
import { formatShanghai, serviceNodeFlags, silentLogger, systemClock } from '@libs/common';
import { createIsolatedEnv } from '@tools/devstack';
import {
  ExtractionService,
  KafkaRawEventSink,
  PostgresExtractionStore,
  RunStats,
  StockoutSource,
} from '@libs/extraction';
import { Scheme, loadSchemeFile } from '@libs/scheme';
import {
  answerParent,
  envInt,
  intArg,
  RssSampler,
  mb,
  median,
  pct,
  runChild,
  settle,
  slidingWindowSeconds,
} from '@tools/devstack';
import { connectExtractor, ExtractorTargets, extractorTargets, postOrderSet } from './extractor-bench.util';

interface Options {
  orders: number;
  pageSize: number;
  latencyMs: number;
  clientCpm: number;
  sandboxCpm: number;
  sandboxWindowMs: number;
  days: number;
  maxWindow: string;
  partitions: number;
  rounds: number;
  budgetMb: number;
  heapMb?: number;
  childNodeArgs?: string;
  scheme: string;
  child?: boolean;
}

/** What the parent hands a child (JSON through the environment). */
interface ChildConfig extends ExtractorTargets {
  round: number;
  schemeFile: string;
  schemeId: string;
  pageSize: number;
  maxWindow: string;
  initialCursor: string;
}

interface ChildResult {
  elapsedMs: number;
  stats: Omit<RunStats, 'windows'> & { windows: number; pages: number };
  pagingMs: number;
  publishMs: number;
  storeMs: number;
  rssBeforeBytes: number;
  peakRssBytes: number;
  parts: { heapUsed: number; heapTotal: number; external: number };
  rssByPhase: Record<string, number>;
}

// ---------------------------------------------------------------------------------------------
// Child: the extractor under test.

async function child(cfg: ChildConfig): Promise<ChildResult> {
  const rss = new RssSampler().start();

  const shipped = loadSchemeFile(cfg.schemeFile);
  const scheme: Scheme = {
    ...shipped,
    id: cfg.schemeId,
    source: {
      ...shipped.source,
      pageSize: cfg.pageSize,
      cursor: { ...shipped.source.cursor, initial: cfg.initialCursor, maxWindow: cfg.maxWindow },
    },
  };
  // The extractor's own configuration path: env → validated config → client.
  const { producer, ds, client, sid, rawEventSink } = await connectExtractor(
    cfg,
    `bench-extractor-${cfg.round}`,
  );

  // Thin timing wrappers around the real implementations (they only add clock reads).
  const phase = { pagingMs: 0, publishMs: 0, storeMs: 0 };
  const timed = async <T>(key: keyof typeof phase, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    rss.phase = key;
    try {
      return await work();
    } finally {
      phase[key] += performance.now() - t0;
      rss.sample();
      rss.phase = 'other';
    }
  };
  const source: StockoutSource = {
    gateway: client.gateway,
    queryAll: (query, options) => timed('pagingMs', () => client.queryAll(query, options)),
    // Each page's wait counts as paging (publishing a page happens between two waits).
    async *queryPages(query, options) {
      const pages = client.queryPages(query, options)[Symbol.asyncIterator]();
      for (;;) {
        const next = await timed('pagingMs', () => pages.next());
        if (next.done) return;
        yield next.value;
      }
    },
  };
  class TimedSink extends KafkaRawEventSink {
    override publish(...args: Parameters<KafkaRawEventSink['publish']>) {
      return timed('publishMs', () => super.publish(...args));
    }
  }
  class TimedStore extends PostgresExtractionStore {
    override getFingerprints(...args: Parameters<PostgresExtractionStore['getFingerprints']>) {
      return timed('storeMs', () => super.getFingerprints(...args));
    }
    override commitWindow(...args: Parameters<PostgresExtractionStore['commitWindow']>) {
      return timed('storeMs', () => super.commitWindow(...args));
    }
  }
  const sink = rawEventSink(TimedSink);
  const service = new ExtractionService(
    scheme,
    source,
    new TimedStore(ds),
    sink,
    systemClock,
    { sid, method: scheme.source.method },
    silentLogger,
  );

  const rssBefore = settle(rss);
  rss.phase = 'other';
  const t0 = performance.now();
  let stats: RunStats | undefined;
  try {
    stats = await service.poll();
  } finally {
    await producer.disconnect();
    await ds.destroy();
  }
  const elapsedMs = performance.now() - t0;
  if (!stats) throw new Error('scheme paused');
  const peakRss = rss.peakBytes();
  return {
    elapsedMs,
    stats: {
      fetched: stats.fetched,
      emitted: stats.emitted,
      unchanged: stats.unchanged,
      parked: stats.parked,
      httpCalls: stats.httpCalls,
      windows: stats.windows.length,
      pages: stats.windows.reduce((s, w) => s + w.pages, 0),
    },
    ...phase,
    rssBeforeBytes: rssBefore,
    peakRssBytes: peakRss,
    parts: rss.parts,
    rssByPhase: rss.byPhase,
  };
}

// ---------------------------------------------------------------------------------------------
// Parent: sandbox, seed, throw-away topic and schema, rounds, report.

async function main(opts: Options): Promise<number> {
  const n = opts.orders;
  const limitBound = (opts.clientCpm * opts.pageSize) / 60;
  const latencyBound = opts.latencyMs > 0 ? opts.pageSize / (opts.latencyMs / 1000) : Infinity;
  const sandboxBound =
    opts.sandboxCpm > 0 ? (opts.sandboxCpm * opts.pageSize) / (opts.sandboxWindowMs / 1000) : Infinity;
  const minCalls = Math.ceil(n / opts.pageSize);
  // A burst of N orders: the sliding window lets L calls go at once, so the sustained limit is not a
  // bound for it; this run's bound is the fewest seconds its minimum calls need under both limits.
  const latencyS = opts.latencyMs / 1000;
  const burstSeconds = Math.max(
    slidingWindowSeconds(minCalls, opts.clientCpm, latencyS),
    opts.sandboxCpm > 0
      ? slidingWindowSeconds(minCalls, opts.sandboxCpm, latencyS, opts.sandboxWindowMs / 1000)
      : 0,
  );
  const runBound = burstSeconds > 0 ? n / burstSeconds : Infinity;
  // Sequential latency is inside runBound; the sustained limits are not bounds for a burst.
  const bound = Number.isFinite(runBound) ? runBound : Math.min(limitBound, latencyBound, sandboxBound);
  console.log(
    `extract bench: ${n} orders, page size ${opts.pageSize}, WDT latency ${opts.latencyMs} ms/call, ` +
      `client limit ${opts.clientCpm} calls/min, sandbox limit ${opts.sandboxCpm > 0 ? `${opts.sandboxCpm} calls/${opts.sandboxWindowMs} ms` : 'off'}, ` +
      `max window ${opts.maxWindow}, raw topic ${opts.partitions} partitions, ${opts.rounds} round(s), node ${process.version}` +
      `, child node ${[...serviceNodeFlags('extractor'), ...(opts.heapMb ? [`--max-old-space-size=${opts.heapMb}`] : [])].join(' ')}`,
  );

  // Loaded here, not at the top: the child must not carry the sandbox (and faker) in its RSS.
  const { startWdtSandbox } = await import('../../../apps/wdt-sandbox/src');
  const env = await createIsolatedEnv('extract', {
    prefix: 'bench',
    partitions: opts.partitions,
    poolSize: 2,
  });
  const sandbox = await startWdtSandbox({
    port: 0,
    knobs: {
      latencyMs: opts.latencyMs,
      callsPerMinute: opts.sandboxCpm,
      rateLimitWindowMs: opts.sandboxWindowMs,
      nativeMaxPageSize: Math.max(100, opts.pageSize),
    },
  });
  try {
    const now = Date.now();
    const from = formatShanghai(now - opts.days * 86_400_000);
    const to = formatShanghai(now - 10 * 60_000);
    const seedStarted = performance.now();
    const res = await postOrderSet(
      sandbox.url,
      'seed',
      { count: n, seed: 20261128, from, to, statusWeights: { '95': 3, '110': 4 } },
      'seeding',
    );
    const seeded = (await res.json()) as { inserted: number };
    console.log(
      `seeded ${seeded.inserted} orders (${from} – ${to}) in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`,
    );

    const results: ChildResult[] = [];
    // The extractor's own flags first (as the image runs it), then the bench's.
    const execArgv = [
      ...serviceNodeFlags('extractor'),
      ...(opts.heapMb ? [`--max-old-space-size=${opts.heapMb}`] : []),
      ...(opts.childNodeArgs?.split(/\s+/).filter(Boolean) ?? []),
    ];
    for (let round = 1; round <= opts.rounds; round++) {
      sandbox.state.stats.reset();
      // Each round is a fresh extractor against a fresh minute: the sandbox forgets the previous
      // round's calls (otherwise round 2 starts inside round 1's sliding window, is told "too frequent"
      // and spends minutes recovering from the halved rate — a restart's cost, not this benchmark's).
      sandbox.state.limiter.reset();
      const before = await env.topicSize(env.topics.rawStockout);
      const r = await runChild<ChildResult>(
        __filename,
        {
          round,
          schemeFile: opts.scheme,
          // A scheme id per round: fingerprints are per scheme, so every round emits all N again.
          schemeId: `bench-extract-${env.suffix}-${round}`,
          pageSize: opts.pageSize,
          maxWindow: opts.maxWindow,
          initialCursor: from,
          ...extractorTargets(sandbox, env, opts.clientCpm),
        } satisfies ChildConfig,
        execArgv,
      );
      const onTopic = (await env.topicSize(env.topics.rawStockout)) - before;
      const sandboxCalls = sandbox.state.stats.snapshot().calls.native;
      results.push(r);
      const rate = n / (r.elapsedMs / 1000);
      console.log(
        `  round ${round}: ${Math.round(rate)} orders/s (${(r.elapsedMs / 1000).toFixed(2)} s), ` +
          `fetched ${r.stats.fetched}, emitted ${r.stats.emitted}, on topic ${onTopic}, ` +
          `${r.stats.httpCalls} calls (sandbox saw ${sandboxCalls}) in ${r.stats.windows} window(s); ` +
          `paging ${(r.pagingMs / 1000).toFixed(2)} s, publish ${(r.publishMs / 1000).toFixed(2)} s, ` +
          `Postgres ${(r.storeMs / 1000).toFixed(2)} s; peak RSS ${mb(r.peakRssBytes)} MB ` +
          `(${Object.entries(r.rssByPhase)
            .map(([k, v]) => `${k.replace(/Ms$/, '')} ${mb(v)}`)
            .join(', ')})`,
      );
      if (r.stats.fetched !== n || r.stats.emitted !== n || onTopic !== n) {
        console.error(`round ${round}: expected ${n} orders fetched, emitted and on the topic`);
        return 1;
      }
    }

    const elapsed = median(results.map((r) => r.elapsedMs));
    const rate = n / (elapsed / 1000);
    const calls = median(results.map((r) => r.stats.httpCalls));
    const paging = median(results.map((r) => r.pagingMs));
    const publish = median(results.map((r) => r.publishMs));
    const store = median(results.map((r) => r.storeMs));
    const peakRss = Math.max(...results.map((r) => r.peakRssBytes));
    const rssOk = peakRss / 1024 / 1024 <= opts.budgetMb;
    const tighter =
      bound === runBound
        ? "this run's: limits and latency"
        : bound === sandboxBound
          ? 'sandbox rate limit'
          : bound === limitBound
            ? 'client rate limit'
            : 'latency';
    // Under the sliding window the average floor per call is the run's bound spread over its calls.
    const perCall = ((burstSeconds * 1000) / minCalls).toFixed(1);
    const label = opts.rounds > 1 ? ` (median of ${opts.rounds})` : '';
    console.log(
      `throughput: ${Math.round(rate)} orders/s${label}, ${(elapsed / 1000).toFixed(2)} s for ${n}`,
    );
    console.log(
      `API calls: ${calls} (minimum ceil(${n}/${opts.pageSize}) = ${minCalls}); ` +
        `paging ${(paging / calls).toFixed(1)} ms/call vs ${perCall} ms/call floor (this run's bound over its minimum calls)`,
    );
    console.log(
      `bound by rate limit: ${opts.clientCpm} calls/min × ${opts.pageSize} / 60 = ${Math.round(limitBound)} orders/s`,
    );
    console.log(
      `bound by latency:    ${opts.pageSize} / ${opts.latencyMs} ms = ${Number.isFinite(latencyBound) ? Math.round(latencyBound) : '∞'} orders/s (sequential paging)`,
    );
    if (Number.isFinite(sandboxBound))
      console.log(`bound by sandbox limit: ${Math.round(sandboxBound)} orders/s`);
    console.log(
      `bound for this run: ${minCalls} calls under the sliding windows (L at once, then each ${60} s after ` +
        `the call L before it), ${opts.latencyMs} ms each = ${burstSeconds.toFixed(2)} s → ${Math.round(runBound)} orders/s` +
        (runBound > Math.min(limitBound, sandboxBound) ? ' (a burst beats the sustained limit)' : ''),
    );
    console.log(
      `ratio: ${pct(rate / bound)} of the tighter bound (${tighter}, ${Math.round(bound)} orders/s)`,
    );
    console.log(
      `time: paging ${pct(paging / elapsed)}, Kafka publish ${pct(publish / elapsed)}, Postgres ${pct(store / elapsed)}, ` +
        `other (fingerprints, events) ${pct(Math.max(0, elapsed - paging - publish - store) / elapsed)}`,
    );
    console.log(
      `peak RSS (extractor child): ${mb(peakRss)} MB (budget ${opts.budgetMb} MB) ${rssOk ? 'PASS' : 'FAIL'}; ` +
        `before the poll ${mb(median(results.map((r) => r.rssBeforeBytes)))} MB, ` +
        `peaks: V8 heap used ${mb(Math.max(...results.map((r) => r.parts.heapUsed)))} MB, ` +
        `heap committed ${mb(Math.max(...results.map((r) => r.parts.heapTotal)))} MB, ` +
        `external (Buffers) ${mb(Math.max(...results.map((r) => r.parts.external)))} MB; ` +
        `sandbox + harness (parent) ${mb(Math.max(process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024))} MB`,
    );
    return rssOk ? 0 : 1;
  } finally {
    await sandbox.close();
    await env.cleanup();
  }
}

const program = new Command()
  .name('extract-bench')
  .description('Benchmark one extractor poll against the WDT sandbox, the real broker and Postgres.')
  .option(
    '-n, --orders <n>',
    'orders seeded and extracted (BENCH_ORDERS)',
    intArg,
    envInt('BENCH_ORDERS', 10_000),
  )
  .option('--page-size <n>', 'page size (BENCH_PAGE_SIZE)', intArg, envInt('BENCH_PAGE_SIZE', 100))
  .option(
    '-l, --latency-ms <n>',
    'sandbox latency per call (BENCH_LATENCY_MS)',
    intArg,
    envInt('BENCH_LATENCY_MS', 50),
  )
  .option(
    '--client-cpm <n>',
    'client rate limit, calls/min (BENCH_CLIENT_CPM)',
    intArg,
    envInt('BENCH_CLIENT_CPM', 600),
  )
  .option(
    '--sandbox-cpm <n>',
    'sandbox rate limit per window, 0 = off (BENCH_SANDBOX_CPM)',
    intArg,
    envInt('BENCH_SANDBOX_CPM', 0),
  )
  .option(
    '--sandbox-window-ms <n>',
    'sandbox rate-limit window (BENCH_SANDBOX_WINDOW_MS)',
    intArg,
    envInt('BENCH_SANDBOX_WINDOW_MS', 60_000),
  )
  .option('--days <n>', 'seeded span in days before now (BENCH_DAYS)', intArg, envInt('BENCH_DAYS', 7))
  .option(
    '--max-window <duration>',
    'scheme cursor.maxWindow: one window holds all its records in memory (BENCH_MAX_WINDOW)',
    process.env.BENCH_MAX_WINDOW || '30d',
  )
  .option(
    '--partitions <n>',
    'partitions of the throw-away raw topic (the catalogue has 6) (BENCH_PARTITIONS)',
    intArg,
    envInt('BENCH_PARTITIONS', 6),
  )
  .option(
    '-r, --rounds <n>',
    'rounds, each in a fresh child (median reported) (BENCH_ROUNDS)',
    intArg,
    envInt('BENCH_ROUNDS', 1),
  )
  .option('-b, --budget-mb <n>', 'peak RSS budget in MB', intArg, 200)
  .option('--heap-mb <n>', "child's --max-old-space-size (default: Node's own, as the services run)", intArg)
  .option('--child-node-args <flags>', "extra node flags for the child, e.g. '--cpu-prof'")
  .option('-s, --scheme <file>', 'scheme file', 'schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml')
  .option('--child', '(internal) run as the measured child', false)
  .action(async (opts: Options) => {
    if (opts.child) return answerParent<ChildConfig, unknown>('extractor', child);
    if (opts.orders < 1 || opts.pageSize < 1 || opts.clientCpm < 1 || opts.rounds < 1)
      throw new InvalidArgumentError('--orders, --page-size, --client-cpm and --rounds must be ≥ 1');
    process.exitCode = await main(opts);
  });
program.parseAsync().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
