#!/usr/bin/env node
/**
 * Loading benchmark (not a test): documents/s of the real LoadProcessor against the Kingdee sandbox.
 *
 * The parent process builds N Kingdee-ready documents the way the transformer does (WDT sandbox
 * orders → `compileScheme(shipped scheme).mapSync(record)`), starts the Kingdee sandbox in-process
 * (real HTTP on 127.0.0.1, latency L per business call), creates a throw-away Postgres schema (the
 * claims) and throw-away topics on the real broker (the audit events), and runs each round in a
 * fresh child process, so the child's peak RSS is the loader's alone. The child wires the processor
 * with `createLoaderEngine` from validated loader config (KINGDEE_SESSIONS = S, LOADER_BATCH_SIZE = B)
 * and feeds it like the loader service: S concurrent `handle()` calls over disjoint slices (as S
 * partitions consumed concurrently would be), each slice in chunks of 5 × B messages (the service's
 * chunk size), which the processor writes in batches of B.
 *
 * Two modes: `auto` (the shipped scheme: BatchSave with IsAutoSubmitAndAudit, 1 Kingdee call per
 * batch) and `separate` (`target.submitMode: separate`: Save → Submit → Audit, 3 calls per batch).
 * Prints docs/s, the bound S × B / (L × calls per batch), the ratio (aim ≥ 90 %), Postgres claim
 * round-trips per batch, Kingdee calls per batch, peak RSS against the budget (default 200 MB), and
 * checks that the sandbox ends up holding exactly N audited bills. Exit code 1 when a check fails.
 *
 *   npm run bench:load -- --docs 10000 --latency-ms 50 --sessions 4 --batch 20
 *
 * Every option also reads an environment variable (BENCH_DOCS, BENCH_LATENCY_MS, …; see --help).
 */
import { loadConnections } from '@libs/connections';
import { randomUUID, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { DataSource } from 'typeorm';
import { silentLogger } from '@libs/common';
import { loadServiceConfig } from '@libs/config';
import { KingdeeDocument, TopicNames } from '@libs/contracts';
import { createDataSource, initializeDataSource } from '@libs/database';
import { createIsolatedEnv } from '@tools/devstack';
import { ConsumedMessage, EventProducer, createKafka } from '@libs/kafka';
import { createLoaderEngine } from '@libs/loading';
import { compileScheme } from '@libs/mapping';
import { Scheme, loadSchemeFile } from '@libs/scheme';
import { answerParent, RssSampler, mb, median, pct, runChild, settle } from '@tools/devstack';

type Mode = 'auto' | 'separate';
const CALLS_PER_BATCH: Record<Mode, number> = { auto: 1, separate: 3 };

interface Options {
  docs: number;
  latencyMs: number;
  sessions: number;
  batch: number;
  chunk?: number;
  modes: string;
  rounds: number;
  sandboxDuplicates: 'accept' | 'reject';
  budgetMb: number;
  heapMb?: number;
  childNodeArgs?: string;
  scheme: string;
  lookupBeforeWrite: 'always' | 'after-ambiguity';
  child?: boolean;
}

interface ChildConfig {
  mode: Mode;
  round: number;
  schemeFile: string;
  schemeId: string;
  docsFile: string;
  sessions: number;
  batch: number;
  chunk: number;
  kingdee: { url: string; acctId: string; username: string; appId: string; appSecret: string };
  brokers: string[];
  databaseUrl: string;
  schema: string;
  topics: TopicNames;
  lookupBeforeWrite: 'always' | 'after-ambiguity';
}

interface ChildResult {
  elapsedMs: number;
  handleCalls: number;
  claimQueries: number;
  claimMs: number;
  claimMsByKind: Record<string, number>;
  auditPublishes: number;
  auditMs: number;
  httpCalls: number;
  httpMs: number;
  inputBytes: number;
  rssBeforeBytes: number;
  peakRssBytes: number;
  parts: { heapUsed: number; heapTotal: number; external: number };
}

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};
const env = (name: string, fallback: number): number =>
  process.env[name] !== undefined && process.env[name] !== '' ? int(process.env[name]!) : fallback;

function schemeFor(
  shipped: Scheme,
  id: string,
  mode: Mode,
  batch: number,
  lookupBeforeWrite: Scheme['target']['lookupBeforeWrite'],
): Scheme {
  return {
    ...shipped,
    id,
    target: { ...shipped.target, batchSize: batch, submitMode: mode, lookupBeforeWrite },
  };
}

// ---------------------------------------------------------------------------------------------
// Child: the loader under test.

async function child(cfg: ChildConfig): Promise<ChildResult> {
  const rss = new RssSampler().start();
  const scheme = schemeFor(
    loadSchemeFile(cfg.schemeFile),
    cfg.schemeId,
    cfg.mode,
    cfg.batch,
    cfg.lookupBeforeWrite,
  );
  // The messages as a consumer would hand them over: bytes, sliced out of the file without parsing
  // (lines are `key<TAB>document JSON`), so set-up leaves no garbage behind in the child.
  // S disjoint slices, as S partitions consumed concurrently: message i goes to partition i mod S.
  const file = fs.readFileSync(cfg.docsFile);
  const slices: ConsumedMessage[][] = Array.from({ length: cfg.sessions }, () => []);
  let count = 0;
  let inputBytes = 0;
  for (let start = 0; start < file.length;) {
    const newline = file.indexOf(0x0a, start);
    const end = newline === -1 ? file.length : newline;
    const tab = file.indexOf(0x09, start);
    if (end > start && tab > start && tab < end) {
      const value = file.subarray(tab + 1, end);
      const partition = count++ % cfg.sessions;
      inputBytes += value.length;
      slices[partition].push({
        topic: cfg.topics.kingdeeDocument,
        partition,
        offset: String(slices[partition].length),
        key: file.toString('utf8', start, tab),
        value,
        headers: {},
        timestamp: String(Date.now()),
      });
    }
    start = end + 1;
  }

  const env = {
    APP_MODE: 'sandbox',
    KAFKA_BROKERS: cfg.brokers.join(','),
    DATABASE_URL: cfg.databaseUrl,
    DATABASE_SCHEMA: cfg.schema,
    KINGDEE_SERVER_URL: cfg.kingdee.url,
    KINGDEE_AUTH_MODE: 'sign',
    KINGDEE_ACCT_ID: cfg.kingdee.acctId,
    KINGDEE_USERNAME: cfg.kingdee.username,
    KINGDEE_APP_ID: cfg.kingdee.appId,
    KINGDEE_APP_SECRET: cfg.kingdee.appSecret,
    KINGDEE_SESSIONS: String(cfg.sessions),
    LOADER_BATCH_SIZE: String(cfg.batch),
  };
  const config = loadServiceConfig('loader', env);
  const registry = loadConnections({ env, kinds: ['kingdee'] });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `bench-loader-${cfg.round}` });
  const producer = new EventProducer(kafka, config.KAFKA_MAX_MESSAGE_BYTES);
  await producer.connect();
  const ds: DataSource = await initializeDataSource(
    createDataSource({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA }),
    config.DATABASE_URL,
  );

  // Count and time the claim round-trips and the audit publishes (delegating to the real ones).
  const counters = {
    claimQueries: 0,
    claimMs: 0,
    claimMsByKind: {} as Record<string, number>,
    auditPublishes: 0,
    auditMs: 0,
    httpCalls: 0,
    httpMs: 0,
  };
  const query = ds.query.bind(ds) as (...args: unknown[]) => Promise<unknown>;
  ds.query = (async (sql: string, ...rest: unknown[]) => {
    if (!sql.includes('bill_claims')) return query(sql, ...rest);
    const t0 = performance.now();
    try {
      return await query(sql, ...rest);
    } finally {
      const ms = performance.now() - t0;
      const kind = sql.trimStart().split(/\s/, 1)[0].toUpperCase();
      counters.claimQueries += 1;
      counters.claimMs += ms;
      counters.claimMsByKind[kind] = (counters.claimMsByKind[kind] ?? 0) + ms;
    }
  }) as DataSource['query'];
  const publish = producer.publish.bind(producer);
  producer.publish = async (events) => {
    if (events.length === 0) return publish(events);
    const t0 = performance.now();
    try {
      return await publish(events);
    } finally {
      counters.auditPublishes += 1;
      counters.auditMs += performance.now() - t0;
    }
  };

  // The Kingdee client uses the global fetch: time its round-trips (to the response headers).
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
    const t0 = performance.now();
    try {
      return await realFetch(...args);
    } finally {
      counters.httpCalls += 1;
      counters.httpMs += performance.now() - t0;
    }
  };

  // The loader service's engine: consumer path, settler, lease keeper (the settler finds nothing to
  // do on the fault-free path; its polling is part of the cost).
  const engine = createLoaderEngine({
    config,
    registry,
    ds,
    producer,
    topics: cfg.topics,
    schemes: new Map([[scheme.id, scheme]]),
    owner: `bench-${process.pid}`,
    logger: silentLogger,
  });
  await engine.start();
  const processor = engine.processor;
  const ctx = { isRunning: () => true, signal: new AbortController().signal };

  // Each slice consumed in order, chunk by chunk, all slices at once.
  let handleCalls = 0;
  const rssBefore = settle(rss);
  rss.phase = 'run';
  const t0 = performance.now();
  const outcomes = await Promise.allSettled(
    slices.map(async (slice) => {
      for (let i = 0; i < slice.length; i += cfg.chunk) {
        handleCalls += 1;
        await processor.handle(slice.slice(i, i + cfg.chunk), ctx);
      }
    }),
  );
  const elapsedMs = performance.now() - t0;
  const peakRss = rss.peakBytes();
  await engine.stop();
  await producer.disconnect();
  await ds.destroy();
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  return {
    elapsedMs,
    handleCalls,
    ...counters,
    inputBytes,
    rssBeforeBytes: rssBefore,
    peakRssBytes: peakRss,
    parts: rss.parts,
  };
}

// ---------------------------------------------------------------------------------------------
// Parent: documents, sandbox, throw-away schema and topics, rounds, checks, report.

/** Stands for the scheme id of a round in the documents file (each round loads under its own id). */
const SCHEME_ID_PLACEHOLDER = '@scheme-id@';

/** N documents of the shipped scheme from realistic WDT orders: `order_no<TAB>document JSON` per line. */
async function buildDocuments(schemeFile: string, n: number, file: string): Promise<number> {
  // Loaded here only: the child must not carry the generator (faker) in its RSS.
  const { OrderGenerator } = await import('../../../apps/wdt-sandbox/src');
  const shipped = loadSchemeFile(schemeFile);
  const mapping = compileScheme(shipped);
  let stockoutId = 500_000;
  let recId = 900_000;
  const ids = { nextStockoutId: () => ++stockoutId, nextRecId: () => ++recId };
  const generator = new OrderGenerator(20261128);
  const now = Date.now();
  const seen = new Set<string>();
  const out = fs.openSync(file, 'w');
  let lines = 0;
  try {
    for (let i = 0; i < n; i++) {
      const record = generator.one(
        { fromMs: now - 7 * 86_400_000, toMs: now - 600_000, statusWeights: { '95': 3, '110': 4 } },
        ids,
      );
      // One bill per order: a repeated order number would be a second version, not a new bill.
      if (seen.has(String(record.order_no))) record.order_no = `${String(record.order_no)}-${i}`;
      seen.add(String(record.order_no));
      const result = mapping.mapSync(record);
      if (result.outcome !== 'document')
        throw new Error(`order ${String(record.order_no)} was not mapped: ${JSON.stringify(result)}`);
      const doc: KingdeeDocument = {
        eventType: 'kingdee.document',
        schemaVersion: 1,
        eventId: randomUUID(),
        schemeId: SCHEME_ID_PLACEHOLDER,
        sourceKey: String(record.order_no),
        billKey: result.billKey,
        idempotencyField: shipped.target.idempotencyKey.field,
        formId: shipped.target.formId,
        correlationId: String(record.order_no),
        sourceEventId: randomUUID(),
        sourceFingerprint: String(record.md5_str ?? 'fp'),
        contentHash: createHash('sha256').update(JSON.stringify(result.model)).digest('hex'),
        transformedAt: new Date().toISOString(),
        model: result.model,
      };
      fs.writeSync(out, `${doc.sourceKey}\t${JSON.stringify(doc)}\n`);
      lines += 1;
    }
  } finally {
    fs.closeSync(out);
  }
  return lines;
}

/** BatchSaves needed: round-robin slices, chunked per handle(), each chunk in batches. */
function batchCount(n: number, slices: number, chunk: number, batch: number): number {
  let total = 0;
  for (let s = 0; s < slices; s++) {
    const size = Math.floor(n / slices) + (s < n % slices ? 1 : 0);
    for (let i = 0; i < size; i += chunk) total += Math.ceil(Math.min(chunk, size - i) / batch);
  }
  return total;
}

interface RoundFigures {
  elapsedMs: number;
  rate: number;
  bills: number;
  audited: number;
  claimsLoaded: number;
  onAuditTopic: number;
  kingdeeCalls: Record<string, number>;
  logins: number;
  maxInFlight: number;
  child: ChildResult;
}

async function main(opts: Options): Promise<number> {
  const modes = opts.modes.split(',').map((m) => m.trim()) as Mode[];
  if (opts.sandboxDuplicates !== 'accept' && opts.sandboxDuplicates !== 'reject')
    throw new InvalidArgumentError('--sandbox-duplicates: accept or reject');
  if (modes.some((m) => !(m in CALLS_PER_BATCH)))
    throw new InvalidArgumentError('--modes: auto and/or separate');
  const n = opts.docs;
  const chunk = opts.chunk ?? opts.batch * 5;
  const batches = batchCount(n, opts.sessions, chunk, opts.batch);
  console.log(
    `load bench: ${n} documents, Kingdee latency ${opts.latencyMs} ms/call, ${opts.sessions} sessions, ` +
      `batches of ${opts.batch}, handle() chunks of ${chunk}, modes ${modes.join(' + ')}, ` +
      `${opts.rounds} round(s) each, sandbox duplicateBillNo=${opts.sandboxDuplicates}, node ${process.version}` +
      (opts.heapMb ? `, child --max-old-space-size=${opts.heapMb}` : ''),
  );

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'load-bench-'));
  const template = path.join(dir, 'documents.tsv');
  const built = performance.now();
  const count = await buildDocuments(opts.scheme, n, template);
  console.log(
    `built ${count} documents (${(fs.statSync(template).size / count / 1024).toFixed(1)} KiB each as JSON) ` +
      `in ${((performance.now() - built) / 1000).toFixed(1)} s`,
  );

  const { startKingdeeSandbox } = await import('../../../apps/kingdee-sandbox/src');
  const benchEnv = await createIsolatedEnv('load', { prefix: 'bench', partitions: 6, poolSize: 2 });
  // `reject` makes the sandbox scan every stored bill for each new FBillNo (its store has no index
  // by number): O(N) per model, O(N²) per run, which ends up measuring the sandbox. `accept` skips
  // that scan; a duplicate would then show up as an extra bill, which the final count catches.
  const sandbox = await startKingdeeSandbox({
    port: 0,
    knobs: { latencyMs: opts.latencyMs },
    switches: { duplicateBillNo: opts.sandboxDuplicates },
  });
  const execArgv = [
    ...(opts.heapMb ? [`--max-old-space-size=${opts.heapMb}`] : []),
    ...(opts.childNodeArgs?.split(/\s+/).filter(Boolean) ?? []),
  ];
  let ok = true;
  try {
    for (const mode of modes) {
      const callsPerBatch = CALLS_PER_BATCH[mode];
      const bound = (opts.sessions * opts.batch) / ((opts.latencyMs / 1000) * callsPerBatch);
      const rounds: RoundFigures[] = [];
      for (let round = 1; round <= opts.rounds; round++) {
        sandbox.reset({ bills: true, sessions: true, stats: true });
        // A reset sandbox is a fresh Kingdee account: its bill keys belong to no scheme yet (else
        // round 2 on would fail every order as identity_collision with round 1's scheme).
        await benchEnv.ds.query(`DELETE FROM bill_identities`);
        const schemeId = `bench-load-${mode}-${benchEnv.suffix}-${round}`;
        const docsFile = path.join(dir, `${mode}-${round}.tsv`);
        fs.writeFileSync(
          docsFile,
          fs
            .readFileSync(template, 'utf8')
            .replaceAll(`"schemeId":"${SCHEME_ID_PLACEHOLDER}"`, `"schemeId":"${schemeId}"`),
        );
        const auditBefore = await benchEnv.topicSize(benchEnv.topics.audit);
        const r = await runChild<ChildResult>(
          __filename,
          {
            mode,
            round,
            schemeFile: opts.scheme,
            schemeId,
            docsFile,
            sessions: opts.sessions,
            batch: opts.batch,
            chunk,
            kingdee: {
              url: sandbox.url,
              acctId: sandbox.credentials.acctId,
              username: sandbox.credentials.username,
              appId: sandbox.credentials.appId,
              appSecret: sandbox.credentials.appSecret,
            },
            brokers: benchEnv.brokers,
            databaseUrl: benchEnv.databaseUrl,
            schema: benchEnv.schema,
            topics: benchEnv.topics,
            lookupBeforeWrite: opts.lookupBeforeWrite,
          } satisfies ChildConfig,
          execArgv,
        );
        const stats = sandbox.stats.snapshot();
        const kingdeeCalls = Object.fromEntries(
          Object.entries(stats.byService).map(([service, outcomes]) => [
            service,
            Object.values(outcomes).reduce((s, v) => s + (v ?? 0), 0),
          ]),
        );
        const [{ loaded }] = (await benchEnv.ds.query(
          `SELECT count(*)::int AS loaded FROM bill_claims WHERE scheme_id = $1 AND state = 'loaded'`,
          [schemeId],
        )) as Array<{ loaded: number }>;
        const f: RoundFigures = {
          elapsedMs: r.elapsedMs,
          rate: n / (r.elapsedMs / 1000),
          bills: sandbox.store.count(),
          audited: sandbox.store.count({ status: 'C' }),
          claimsLoaded: loaded,
          onAuditTopic: (await benchEnv.topicSize(benchEnv.topics.audit)) - auditBefore,
          kingdeeCalls,
          logins: stats.logins,
          maxInFlight: stats.maxInFlight,
          child: r,
        };
        rounds.push(f);
        const roundOk = f.bills === n && f.audited === n && f.claimsLoaded === n && f.onAuditTopic === n;
        ok &&= roundOk;
        console.log(
          `  ${mode} round ${round}: ${Math.round(f.rate)} docs/s (${(r.elapsedMs / 1000).toFixed(2)} s), ` +
            `${pct(f.rate / bound)} of the bound; sandbox holds ${f.bills} bills (${f.audited} audited), ` +
            `${f.claimsLoaded} claims loaded, ${f.onAuditTopic} audit events; peak RSS ${mb(r.peakRssBytes)} MB` +
            (roundOk ? '' : ` — FAIL: expected ${n} of each`),
        );
      }

      const mid = rounds.find((f) => f.elapsedMs === median(rounds.map((x) => x.elapsedMs)))!;
      const rate = mid.rate;
      const c = mid.child;
      const peakRss = Math.max(...rounds.map((f) => f.child.peakRssBytes));
      const rssOk = peakRss / 1024 / 1024 <= opts.budgetMb;
      ok &&= rssOk;
      const writes = Object.entries(mid.kingdeeCalls)
        .filter(([service]) => !service.startsWith('AuthService'))
        .map(([service, calls]) => `${service.replace(/^DynamicFormService\./, '')} ${calls}`)
        .join(', ');
      const kingdeeBusiness = Object.entries(mid.kingdeeCalls)
        .filter(([service]) => !service.startsWith('AuthService'))
        .reduce((s, [, v]) => s + v, 0);
      const label = opts.rounds > 1 ? ` (median of ${opts.rounds})` : '';
      console.log(
        `mode ${mode}${mode === 'auto' ? ' (shipped scheme, IsAutoSubmitAndAudit)' : ' (Save → Submit → Audit)'}:`,
      );
      console.log(
        `  throughput: ${Math.round(rate)} docs/s${label}, ${(mid.elapsedMs / 1000).toFixed(2)} s for ${n}`,
      );
      console.log(
        `  bound: S × B / (L × calls per batch) = ${opts.sessions} × ${opts.batch} / (${opts.latencyMs} ms × ${callsPerBatch}) = ${Math.round(bound)} docs/s`,
      );
      console.log(
        `  ratio: ${pct(rate / bound)} of the bound (aim ≥ 90 %) ${rate / bound >= 0.9 ? 'PASS' : 'BELOW'}`,
      );
      console.log(
        `  Kingdee calls: ${writes} = ${(kingdeeBusiness / batches).toFixed(2)} per batch (${batches} batches); ` +
          `logins ${mid.logins}; max ${mid.maxInFlight} calls in flight`,
      );
      console.log(
        `  Postgres claim round-trips: ${c.claimQueries} = ${(c.claimQueries / batches).toFixed(2)} per batch ` +
          `(${(c.claimQueries / c.handleCalls).toFixed(1)} per handle() of ≤ ${chunk}), ` +
          `${(c.claimMs / c.claimQueries).toFixed(1)} ms each on average (` +
          Object.entries(c.claimMsByKind)
            .map(
              ([kind, ms]) =>
                `${kind} ${((ms / c.claimQueries) * (c.claimQueries / c.handleCalls)).toFixed(1)}`,
            )
            .join(', ') +
          ' ms per handle())',
      );
      const share = (ms: number) => pct(ms / opts.sessions / c.elapsedMs);
      console.log(
        `  time per slice: Kingdee HTTP ${share(c.httpMs)} (${(c.httpMs / c.httpCalls).toFixed(1)} ms per call ` +
          `for ${opts.latencyMs} ms of latency), Postgres claims ${share(c.claimMs)}, ` +
          `Kafka audit ${share(c.auditMs)} (${c.auditPublishes} publishes, ${(c.auditMs / c.auditPublishes).toFixed(1)} ms each), ` +
          `other (decode, CPU, waiting for the event loop) ${share(Math.max(0, opts.sessions * c.elapsedMs - c.httpMs - c.claimMs - c.auditMs))}`,
      );
      console.log(
        `  peak RSS (loader child): ${mb(peakRss)} MB (budget ${opts.budgetMb} MB) ${rssOk ? 'PASS' : 'FAIL'}; ` +
          `before the run ${mb(c.rssBeforeBytes)} MB incl. the ${mb(c.inputBytes)} MB of input messages; ` +
          `peaks: V8 heap used ${mb(c.parts.heapUsed)} MB, heap committed ${mb(c.parts.heapTotal)} MB, ` +
          `external ${mb(c.parts.external)} MB`,
      );
      console.log(
        `  checks: ${mid.bills} bills in the sandbox (expected exactly ${n}), ${mid.audited} audited (status C), ` +
          `${mid.claimsLoaded} claims loaded, ${mid.onAuditTopic} audit events`,
      );
    }
    console.log(
      `sandbox + harness (parent) peak RSS ${mb(Math.max(process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024))} MB`,
    );
    return ok ? 0 : 1;
  } finally {
    await sandbox.close();
    await benchEnv.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const program = new Command()
  .name('load-bench')
  .description(
    'Benchmark the LoadProcessor against the Kingdee sandbox, real Postgres claims and Kafka audit.',
  )
  .option('-n, --docs <n>', 'documents (BENCH_DOCS)', int, env('BENCH_DOCS', 10_000))
  .option(
    '-l, --latency-ms <n>',
    'Kingdee sandbox latency per call (BENCH_LATENCY_MS)',
    int,
    env('BENCH_LATENCY_MS', 50),
  )
  .option(
    '-S, --sessions <n>',
    'Kingdee sessions = concurrent slices (BENCH_SESSIONS)',
    int,
    env('BENCH_SESSIONS', 4),
  )
  .option('-B, --batch <n>', 'models per BatchSave (BENCH_BATCH)', int, env('BENCH_BATCH', 20))
  .option('--chunk <n>', 'messages per handle() call (default 5 × batch, as the loader service)', int)
  .option('--modes <list>', 'auto and/or separate (BENCH_MODES)', process.env.BENCH_MODES || 'auto,separate')
  .option(
    '-r, --rounds <n>',
    'rounds per mode, each in a fresh child (median reported) (BENCH_ROUNDS)',
    int,
    env('BENCH_ROUNDS', 1),
  )
  .option(
    '--sandbox-duplicates <mode>',
    'Kingdee sandbox duplicateBillNo switch: accept (no O(N) scan per model) or reject (BENCH_SANDBOX_DUPLICATES)',
    process.env.BENCH_SANDBOX_DUPLICATES || 'accept',
  )
  .option('-b, --budget-mb <n>', 'peak RSS budget in MB', int, 200)
  .option('--heap-mb <n>', "child's --max-old-space-size (default: Node's own, as the services run)", int)
  .option('--child-node-args <flags>', "extra node flags for the child, e.g. '--cpu-prof'")
  .option('-s, --scheme <file>', 'scheme file', 'schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml')
  .option(
    '--lookup-before-write <mode>',
    'scheme target.lookupBeforeWrite: after-ambiguity (shipped) or always (one look-up per BatchSave) (BENCH_LOOKUP)',
    process.env.BENCH_LOOKUP || 'after-ambiguity',
  )
  .option('--child', '(internal) run as the measured child', false)
  .action(async (opts: Options) => {
    if (opts.child) return answerParent<ChildConfig, unknown>('loader', child);
    process.exitCode = await main(opts);
  });
program.parseAsync().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
