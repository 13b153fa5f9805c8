#!/usr/bin/env node
/**
 * Transform benchmark (not a test): documents/s of the shipped scheme on one core, from JSON text
 * to JSON text (parse → map → stringify the model), against the floor `JSON.parse` +
 * `JSON.stringify` of the same payloads. A child process generates the payloads (faker, zh_CN) into
 * an NDJSON file first, so the generator's memory is not counted; the bench then reads them in
 * chunks (not timed) and times both loops per chunk, alternating their order. Prints both rates,
 * the ratio (target ≥ 25 % of the floor) and peak RSS of the benchmark process against the budget
 * (default 200 MB). Exit code 1 when a target is missed.
 *
 * V8 grows its heap lazily; the process is run with `--max-old-space-size=128` (as a memory-capped
 * transformer would be) so RSS reflects the working set rather than uncollected garbage.
 *
 *   npm run bench:transform -- --records 20000 --lines 3
 */
import { loadSchemeFile } from '@libs/scheme';
import { Command, InvalidArgumentError } from 'commander';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { compileScheme, type CompiledMapping } from '../../../libs/mapping/src/compile-scheme.util';

interface Options {
  records: number;
  lines: number;
  chunk: number;
  rounds: number;
  scheme: string;
  budgetMb: number;
  sync: boolean;
  payloads?: string;
  generate?: string;
}

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};

let peakRss = 0;
const sampleRss = () => {
  const rss = process.memoryUsage().rss;
  if (rss > peakRss) peakRss = rss;
};

interface Counts {
  documents: number;
  skipped: number;
  errors: number;
  outBytes: number;
}

async function runOurs(
  mapping: CompiledMapping,
  payloads: string[],
  sync: boolean,
  counts: Counts,
): Promise<bigint> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < payloads.length; i++) {
    const record: unknown = JSON.parse(payloads[i]);
    let out: string;
    try {
      const r = sync ? mapping.mapSync(record) : await mapping.map(record);
      if (r.outcome === 'document') {
        out = JSON.stringify(r.model);
        counts.documents++;
      } else {
        out = JSON.stringify(r);
        counts.skipped++;
      }
    } catch (e) {
      out = JSON.stringify(e);
      counts.errors++;
    }
    counts.outBytes += out.length;
    if ((i & 511) === 0) sampleRss();
  }
  return process.hrtime.bigint() - t0;
}

function runParseOnly(payloads: string[], counts: { outBytes: number }): bigint {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < payloads.length; i++) {
    const r = JSON.parse(payloads[i]) as { order_no?: string };
    counts.outBytes += r.order_no?.length ?? 0;
  }
  return process.hrtime.bigint() - t0;
}

function runFloor(payloads: string[], counts: { outBytes: number }): bigint {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < payloads.length; i++) {
    counts.outBytes += JSON.stringify(JSON.parse(payloads[i])).length;
    if ((i & 511) === 0) sampleRss();
  }
  return process.hrtime.bigint() - t0;
}

/** Child process: writes `records` payloads (one JSON per line) to `file`. */
async function generate(file: string, records: number, lines: number): Promise<void> {
  const { WdtRecordFactory } = await import('./wdt-record.factory');
  const factory = new WdtRecordFactory(20261128);
  const out = fs.createWriteStream(file);
  for (let i = 0; i < records; i++) {
    if (!out.write(`${JSON.stringify(factory.record({ lines }))}\n`)) {
      await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

async function generateInChild(opts: Options): Promise<string> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'transform-bench-')), 'payloads.ndjson');
  const args = ['--generate', file, '--records', String(opts.records), '--lines', String(opts.lines)];
  await new Promise<void>((resolve, reject) => {
    const child = fork(__filename, args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`generator exited with ${code}`))));
  });
  return file;
}

/** Yields the payload file in chunks of `size` lines. */
async function* chunks(file: string, size: number): AsyncGenerator<string[]> {
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let chunk: string[] = [];
  for await (const line of rl) {
    if (line === '') continue;
    chunk.push(line);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

async function main(opts: Options): Promise<number> {
  if (opts.generate) {
    await generate(opts.generate, opts.records, opts.lines);
    return 0;
  }
  const mapping = compileScheme(loadSchemeFile(opts.scheme));
  const mode = opts.sync ? 'mapSync' : 'await map';
  console.log(
    `transform bench: scheme ${mapping.scheme.id} (${mapping.usesFormulas ? 'formulas' : 'no formulas'}), ` +
      `${opts.records} records × ${opts.lines} lines, chunks of ${opts.chunk}, ${opts.rounds} rounds, ${mode}, node ${process.version}`,
  );
  const generated = opts.payloads === undefined;
  const file = opts.payloads ?? (await generateInChild(opts));
  try {
    // Warm-up (JIT) on the first chunk, not timed.
    for await (const warm of chunks(file, Math.min(opts.chunk, 2000))) {
      const c: Counts = { documents: 0, skipped: 0, errors: 0, outBytes: 0 };
      runFloor(warm, c);
      await runOurs(mapping, warm, opts.sync, c);
      break;
    }

    const oursRates: number[] = [];
    const floorRates: number[] = [];
    const parseRates: number[] = [];
    let payloadBytes = 0;
    let records = 0;
    let counts: Counts = { documents: 0, skipped: 0, errors: 0, outBytes: 0 };
    for (let round = 0; round < opts.rounds; round++) {
      counts = { documents: 0, skipped: 0, errors: 0, outBytes: 0 };
      const floorCounts = { outBytes: 0 };
      let oursNs = 0n;
      let floorNs = 0n;
      let parseNs = 0n;
      payloadBytes = 0;
      records = 0;
      let chunkNo = 0;
      for await (const payloads of chunks(file, opts.chunk)) {
        for (const p of payloads) payloadBytes += Buffer.byteLength(p);
        records += payloads.length;
        sampleRss();
        // Rotate the order of the three loops from chunk to chunk.
        const order = chunkNo++ % 3;
        for (let k = 0; k < 3; k++) {
          const which = (order + k) % 3;
          if (which === 0) floorNs += runFloor(payloads, floorCounts);
          else if (which === 1) oursNs += await runOurs(mapping, payloads, opts.sync, counts);
          else parseNs += runParseOnly(payloads, floorCounts);
        }
      }
      parseRates.push(records / (Number(parseNs) / 1e9));
      const oursRate = records / (Number(oursNs) / 1e9);
      const floorRate = records / (Number(floorNs) / 1e9);
      oursRates.push(oursRate);
      floorRates.push(floorRate);
      console.log(
        `  round ${round + 1}: floor ${Math.round(floorRate)} docs/s, ours ${Math.round(oursRate)} docs/s, ` +
          `ratio ${(oursRate / floorRate).toFixed(3)}`,
      );
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const ours = median(oursRates);
    const floor = median(floorRates);
    const ratio = ours / floor;
    const maxRssMb = Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 1024 / 1024;
    const ratioOk = ratio >= 0.25;
    const rssOk = maxRssMb <= opts.budgetMb;
    console.log(
      `payloads: ${records} records, ${(payloadBytes / records / 1024).toFixed(1)} KiB/record on average`,
    );
    console.log(
      `outcomes (last round): ${counts.documents} documents, ${counts.skipped} skipped, ${counts.errors} errors; ` +
        `${(counts.outBytes / Math.max(1, counts.documents + counts.skipped + counts.errors)).toFixed(0)} chars/model`,
    );
    console.log(
      `floor (JSON.parse + JSON.stringify): ${Math.round(floor)} docs/s (median of ${opts.rounds})`,
    );
    console.log(`ours  (parse + ${mode} + stringify): ${Math.round(ours)} docs/s (median of ${opts.rounds})`);
    const parseOnly = median(parseRates);
    console.log(
      `JSON.parse alone: ${Math.round(parseOnly)} docs/s → map + stringify(model) cost ` +
        `${((1 / ours - 1 / parseOnly) * 1e6).toFixed(1)} µs/record`,
    );
    console.log(
      `ratio: ${(ratio * 100).toFixed(1)} % of the floor (target ≥ 25 %) ${ratioOk ? 'PASS' : 'FAIL'}`,
    );
    console.log(
      `peak RSS: ${maxRssMb.toFixed(1)} MB (budget ${opts.budgetMb} MB) ${rssOk ? 'PASS' : 'FAIL'}`,
    );
    return ratioOk && rssOk && counts.errors === 0 ? 0 : 1;
  } finally {
    if (generated) fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

const program = new Command()
  .name('transform-bench')
  .description('Benchmark the mapping engine against JSON.parse + JSON.stringify.')
  .option('-n, --records <n>', 'records per round', int, 20_000)
  .option('-l, --lines <n>', 'goods lines per record', int, 3)
  .option('-c, --chunk <n>', 'records generated (untimed) per chunk', int, 2_000)
  .option('-r, --rounds <n>', 'rounds (the median is reported)', int, 3)
  .option(
    '-s, --scheme <file>',
    'scheme file',
    path.join('schemes', 'wdt-stockout-return-to-kingdee-pur-mrb.yaml'),
  )
  .option('-b, --budget-mb <n>', 'peak RSS budget in MB', int, 200)
  .option('--sync', 'use mapSync instead of await map', false)
  .option('-p, --payloads <file>', 'use this NDJSON payload file instead of generating one')
  .option('--generate <file>', '(internal) write the payload file and exit')
  .action(async (opts: Options) => {
    process.exitCode = await main(opts);
  });
program.parseAsync().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
