// `npm run backfill -- --from "2026-10-01 00:00:00" --to "2026-11-01 00:00:00" [--scheme <id>] [--force]`
// Re-reads WDT history window by window (≤ 30 days each) under the shared rate limiter, emits what
// is new or changed (everything with --force) and leaves the incremental cursor alone.
import { PostgresWdtCallGate } from '@libs/shared-limits';
import { hostname } from 'node:os';
import { Command } from 'commander';
import { systemClock } from '@libs/common';
import { PostgresPayloadStore } from '@libs/database';
import { ExtractionService, KafkaRawEventSink, PostgresExtractionStore, runBackfill } from '@libs/extraction';
import { DeadLetterPublisher } from '@libs/kafka';
import { createWdtClient, WdtStockoutReturnClient } from '@libs/wdt-client';
import { CliProgress } from './cli-progress.util';
import {
  assertOrderedRange,
  loadCliConfig,
  openCliRuntime,
  parseBound,
  parseWallClock,
  selectSchemes,
} from './cli-runtime';

const opts = new Command()
  .name('backfill')
  .requiredOption('--from <time>', 'start, "yyyy-MM-dd HH:mm:ss" Shanghai wall-clock (or ISO 8601)')
  .requiredOption('--to <time>', 'end, "yyyy-MM-dd HH:mm:ss" Shanghai wall-clock (or ISO 8601)')
  .option('--scheme <id>', 'scheme id (default: every enabled scheme)')
  .option('--force', 're-emit records even if unchanged since last emitted', false)
  .parse()
  .opts<{ from: string; to: string; scheme?: string; force: boolean }>();

async function main(): Promise<void> {
  const config = await loadCliConfig('extractor');
  // Everything a person can get wrong is refused before anything connects.
  const from = parseWallClock('--from', opts.from);
  const to = parseWallClock('--to', opts.to);
  assertOrderedRange({ text: opts.from, bound: parseBound(from) }, { text: opts.to, bound: parseBound(to) });
  const schemes = opts.scheme
    ? selectSchemes(config, opts.scheme)
    : selectSchemes(config).filter((s) => s.enabled);
  if (schemes.length === 0) throw new Error(`no enabled scheme in ${config.SCHEMES_DIR}`);
  const rt = await openCliRuntime('extractor', 'backfill-cli');
  const { logger, topics } = rt;
  const connections = rt.connections!;
  for (const scheme of schemes) connections.wdt(scheme.source.connection); // unknown names refused before connecting
  const clients = new Map<string, WdtStockoutReturnClient>();
  // The app keys' limits are shared with the running extractors (and every other CLI) through Postgres.
  const gate = new PostgresWdtCallGate(rt.ds, { instance: `backfill-${hostname()}-${process.pid}`, logger });
  const clientOf = (name: string): WdtStockoutReturnClient => {
    const connection = connections.wdt(name);
    if (!clients.has(name))
      clients.set(
        name,
        createWdtClient(connection.clientOptions, logger, {
          gate,
          budgetKey: connection.budgetKey,
          connection: name,
        }),
      );
    return clients.get(name)!;
  };
  const sink = new KafkaRawEventSink(
    rt.producer,
    new DeadLetterPublisher(
      rt.producer,
      topics,
      new PostgresPayloadStore(rt.ds),
      config.KAFKA_MAX_MESSAGE_BYTES,
    ),
    topics,
  );
  try {
    for (const scheme of schemes) {
      const connection = connections.wdt(scheme.source.connection);
      const service = new ExtractionService(
        scheme,
        clientOf(connection.name),
        new PostgresExtractionStore(rt.ds),
        sink,
        systemClock,
        { sid: connection.sid, method: scheme.source.method, connection: connection.name },
        logger,
        undefined,
        config.EXTRACTOR_RECORD_REREADS,
      );
      const started = Date.now();
      const progress = new CliProgress({
        label: `backfill ${scheme.id}`,
        describe: (done, total, f) =>
          `window ${done}/${total}, ${f.records} records, ${f.emitted} emitted, ${f.pages} pages, ${f.rate} rec/s`,
        barFormat:
          '{label} |{bar}| window {value}/{total} | {records} records, {pages} pages, {emitted} emitted | {rate} rec/s | ETA {eta_formatted}',
      });
      try {
        const stats = await runBackfill(
          service,
          { from, to, force: opts.force },
          {
            onProgress: (p) =>
              progress.update(p.windowsDone, p.windowsTotal, {
                records: p.records,
                pages: p.pages,
                emitted: p.emitted,
                rate: Math.round(p.records / Math.max(0.001, (Date.now() - started) / 1000)),
              }),
          },
        );
        progress.stop();
        console.log(
          `${scheme.id}: ${stats.fetched} records in ${stats.windows.length} windows, ${stats.emitted} emitted, ${stats.unchanged} unchanged, ${stats.parked} parked, ${stats.httpCalls} API calls`,
        );
      } finally {
        progress.stop();
      }
    }
  } finally {
    await gate.stop();
    await rt.close();
  }
}

main().catch((err) => {
  console.error(`backfill failed: ${(err as Error).message}`);
  process.exit(1);
});
