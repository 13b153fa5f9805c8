#!/usr/bin/env node
/**
 * Reconciliation benchmark (not a test): one `npm run reconcile` over a month of a seeded shop.
 *
 * Starts the WDT and Kingdee sandboxes as processes (StackRunner, throw-away topics and Postgres
 * schema), seeds N shipped/completed purchase-return stockouts over the last 30 days in WDT (1–5
 * lines, ≈3 on average), maps every one through the scheme (the transformer's mapping) and enters the
 * matching bills in Kingdee in bulk (`POST /admin/bills/import`, audited), then runs the built CLI
 * (`dist/apps/cli/src/reconcile.js`) as a child process with the production heap cap and samples its
 * peak RSS (VmHWM from /proc, else ps). Prints orders/s, WDT calls against the minimum
 * max(ceil(N / page size), windows) and the time that minimum takes at the configured calls/min, Kingdee
 * calls, and peak RSS against the budget. Exit 1 when a run fails, finds anything, or is over budget.
 *
 *   npm run bench:reconcile -- --orders 10000,100000 --wdt-calls-per-minute 600
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { parseDocument } from 'yaml';
import { formatShanghai } from '@libs/common';
import { mb, StackRunner } from '@tools/devstack';
import { compileScheme } from '@libs/mapping';
import { durationMs, loadSchemeFile, pageSizeOf } from '@libs/scheme';

interface Options {
  orders: number[];
  wdtCallsPerMinute: number;
  pageSize?: number;
  days: number;
  budgetMb: number;
  heapMb: number;
  scheme: string;
}

const root = resolve(__dirname, '../../../..');
const IMPORT_CHUNK = 2000;

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a positive integer');
  return n;
};
const intList = (v: string) => v.split(',').map((x) => int(x.trim()));
const nonNegative = (v: string) => (v.trim() === '0' ? 0 : int(v));

/** Peak RSS of a process: the kernel's high-water mark while it lives (VmHWM), else ps's current RSS. */
function rssSampler(pid: number): { stop(): number } {
  let peak = 0;
  const sample = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
    } catch {
      // Gone (exited) or no /proc (macOS): ps below, while it lives.
      const ps = spawn('ps', ['-o', 'rss=', '-p', String(pid)]);
      ps.stdout.on('data', (d: Buffer) => {
        const kb = Number(d.toString().trim());
        if (kb > 0) peak = Math.max(peak, kb * 1024);
      });
      ps.on('error', () => undefined);
    }
  };
  const timer = setInterval(sample, 100);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

async function postJson(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : undefined;
}

async function round(n: number, opts: Options): Promise<boolean> {
  const shipped = loadSchemeFile(opts.scheme);
  const pageSize = opts.pageSize ?? pageSizeOf(shipped);
  const scheme = { ...shipped, source: { ...shipped.source, pageSize } };
  const schemesDir = mkdtempSync(join(tmpdir(), 'bench-reconcile-'));
  // The scheme file as the CLI reads it, with the page size given.
  const doc = parseDocument(readFileSync(opts.scheme, 'utf8'));
  doc.setIn(['source', 'pageSize'], pageSize);
  writeFileSync(join(schemesDir, `${scheme.id}.yaml`), doc.toString());
  const stack = new StackRunner({
    root,
    brokers: (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(','),
    databaseUrl: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee',
    schemesDir,
    services: [],
    // The sandbox answers as fast as it can; the reconciler's own limiter is what is measured.
    wdt: { knobs: { callsPerMinute: 0, nativeMaxPageSize: Math.max(100, pageSize) } },
  });
  try {
    await stack.prepare();
    await stack.startSandboxes();
    const now = Date.now();
    const from = formatShanghai(now - opts.days * 86_400_000);
    const to = formatShanghai(now - 10 * 60_000);
    let t0 = performance.now();
    const seeded = (await stack.wdtAdmin('POST', '/orders/seed', {
      count: n,
      seed: 20261128,
      from,
      to,
      statusWeights: { '95': 3, '110': 4 },
    })) as { inserted: number };
    console.log(`  seeded ${seeded.inserted} WDT orders (${from} – ${to}) in ${s(t0)}`);

    // The bills the loader would have written: every order mapped by the scheme, entered audited.
    t0 = performance.now();
    const mapping = compileScheme(scheme);
    let bills = 0;
    let lines = 0;
    for (let page = 0; page * 1000 < n; page++) {
      const { orders } = (await stack.wdtAdmin('GET', `/orders?page_no=${page}&page_size=1000`)) as {
        orders: Record<string, unknown>[];
      };
      const models: Record<string, unknown>[] = [];
      for (const order of orders) {
        const mapped = await mapping.map(order);
        if (mapped.outcome !== 'document') continue;
        models.push(mapped.model);
        lines += (mapped.model.FPURMRBENTRY as unknown[] | undefined)?.length ?? 0;
      }
      for (let i = 0; i < models.length; i += IMPORT_CHUNK)
        await postJson(`${stack.kingdeeUrl}/admin/bills/import`, {
          bills: models.slice(i, i + IMPORT_CHUNK),
        });
      bills += models.length;
    }
    console.log(`  entered ${bills} matching Kingdee bills (${lines} lines) in ${s(t0)}`);
    await stack.wdtAdmin('POST', '/stats/reset');
    const kingdeeBefore = (await stack.kingdeeAdmin('GET', '/stats')) as { requests: number };

    // The CLI as a person runs it, with the reconciler's environment and the production heap cap.
    const env = {
      ...process.env,
      ...stack.serviceEnv('reconciler'),
      HTTP_PORT: '3006',
      WDT_CALLS_PER_MINUTE: String(opts.wdtCallsPerMinute),
      ...(opts.heapMb > 0 ? { NODE_OPTIONS: `--max-old-space-size=${opts.heapMb}` } : {}),
      LOG_LEVEL: 'warn',
    };
    t0 = performance.now();
    const child = spawn(
      process.execPath,
      [join(root, 'dist/apps/cli/src/reconcile.js'), '--scheme', scheme.id, '--from', from, '--to', to],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const rss = rssSampler(child.pid!);
    let output = '';
    for (const stream of [child.stdout, child.stderr])
      stream.on('data', (d: Buffer) => {
        output += d.toString();
        process.stdout.write(d.toString().replace(/^(?=.)/gm, '    | '));
      });
    const code = await new Promise<number>((done) => child.on('exit', (c) => done(c ?? 1)));
    const peak = rss.stop();
    const elapsedMs = performance.now() - t0;
    const wdtCalls = ((await stack.wdtAdmin('GET', '/stats')) as { calls: { native: number } }).calls.native;
    const kingdee = (await stack.kingdeeAdmin('GET', '/stats')) as {
      requests: number;
      byService: Record<string, Record<string, number>>;
    };
    const kingdeeCalls = kingdee.requests - kingdeeBefore.requests;
    const windows = Math.ceil((opts.days * 86_400_000) / durationMs(scheme.source.cursor.maxWindow));
    // Every window costs at least one call and every page one: the figure can never go below this.
    const minCalls = Math.max(Math.ceil(n / pageSize), windows);
    const boundS = (minCalls / opts.wdtCallsPerMinute) * 60;
    const overBudget = peak / 1024 / 1024 > opts.budgetMb;
    console.log(
      `  reconcile CLI exit ${code} in ${(elapsedMs / 1000).toFixed(1)} s` +
        (code === 0 ? `: ${Math.round(n / (elapsedMs / 1000))} orders/s` : ''),
    );
    console.log(
      `  WDT calls ${wdtCalls} (minimum max(ceil(${n}/${pageSize}), ${windows} window(s)) = ${minCalls}); ` +
        `at ${opts.wdtCallsPerMinute} calls/min that minimum takes ${boundS.toFixed(1)} s ` +
        `(${Math.round(n / boundS)} orders/s at best)`,
    );
    console.log(
      `  Kingdee calls ${kingdeeCalls} (${Object.entries(kingdee.byService)
        .map(([svc, o]) => `${svc} ${Object.values(o).reduce((a, b) => a + b, 0)}`)
        .join(', ')}) for ${bills} bills / ${lines} rows`,
    );
    console.log(
      `  peak RSS (reconcile CLI, ${opts.heapMb > 0 ? `--max-old-space-size=${opts.heapMb}` : 'no heap cap'}): ${peak > 0 ? mb(peak) : '?'} MB ` +
        `(budget ${opts.budgetMb} MB) ${peak > 0 && !overBudget ? 'PASS' : 'FAIL'}`,
    );
    if (code !== 0) {
      const why =
        /(run \S+ (failed|cancelled)|reconcile failed)[^\n]*/.exec(output)?.[0] ??
        (code === 3 ? 'findings in a month seeded to match' : `exit code ${code}`);
      console.error(`  reconcile step did not reconcile the seeded month cleanly: ${why}`);
    }
    return code === 0 && peak > 0 && !overBudget;
  } finally {
    await stack.stop();
    await stack.cleanup();
    rmSync(schemesDir, { recursive: true, force: true });
  }
}

function s(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}

async function main(opts: Options): Promise<number> {
  console.log(
    `reconcile bench: orders ${opts.orders.join(', ')} over ${opts.days} days, WDT ${opts.wdtCallsPerMinute} calls/min ` +
      `(shipped default 60), RSS budget ${opts.budgetMb} MB, node ${process.version}`,
  );
  let ok = true;
  for (const n of opts.orders) {
    console.log(`${n} orders:`);
    ok = (await round(n, opts)) && ok;
  }
  return ok ? 0 : 1;
}

const program = new Command()
  .name('reconcile-bench')
  .description('Benchmark `npm run reconcile` over a seeded month in the WDT and Kingdee sandboxes.')
  .option('-n, --orders <list>', 'orders seeded, comma-separated sizes (one round each)', intList, [10_000])
  .option(
    '--wdt-calls-per-minute <n>',
    "the reconciler's WDT_CALLS_PER_MINUTE (shipped default 60; tuned: what your seller is allowed)",
    int,
    50,
  )
  .option('--page-size <n>', "WDT page size (default: the scheme's source.pageSize)", int)
  .option('--days <n>', 'days of orders seeded and reconciled', int, 30)
  .option('--budget-mb <n>', 'peak RSS budget of the CLI', int, 200)
  .option('--heap-mb <n>', 'the CLI child --max-old-space-size (as in the image; 0: no cap)', nonNegative, 96)
  .option(
    '--scheme <file>',
    'scheme file',
    join(root, 'schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml'),
  );

main(program.parse().opts<Options>())
  .then((code) => process.exit(code))
  .catch((err) => {
    console.error(`reconcile bench failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  });
