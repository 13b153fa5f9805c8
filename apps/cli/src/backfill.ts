// `npm run backfill -- --from "2026-10-01 00:00:00" --to "2026-11-01 00:00:00" [--scheme <id>] [--force]`
// Re-reads WDT history window by window (≤ 30 days each) under the shared rate limiter, emits what
// is new or changed (everything with --force) and leaves the incremental cursor alone.
import { MultiBar, Presets } from 'cli-progress';
import { Command } from 'commander';
import { systemClock } from '@libs/common';
import { loadServiceConfig } from '@libs/config';
import { topicNamesFromEnv } from '@libs/contracts';
import { PostgresPayloadStore } from '@libs/database';
import { ExtractionService, KafkaRawEventSink, PostgresExtractionStore } from '@libs/extraction';
import { DeadLetterPublisher } from '@libs/kafka';
import { createLogger } from '@libs/runtime';
import { loadSchemesFromDir } from '@libs/scheme';
import { createWdtClient } from '@libs/wdt-client';
import { openCliRuntime } from './cli-runtime';

const opts = new Command()
  .name('backfill')
  .requiredOption('--from <time>', 'start, "yyyy-MM-dd HH:mm:ss" Shanghai wall-clock')
  .requiredOption('--to <time>', 'end, "yyyy-MM-dd HH:mm:ss" Shanghai wall-clock')
  .option('--scheme <id>', 'scheme id (default: every enabled scheme)')
  .option('--force', 're-emit records even if unchanged since last emitted', false)
  .parse()
  .opts<{ from: string; to: string; scheme?: string; force: boolean }>();

async function main(): Promise<void> {
  const config = loadServiceConfig('extractor');
  const logger = createLogger('backfill', process.env.LOG_LEVEL || 'warn');
  const topics = topicNamesFromEnv();
  const schemes = loadSchemesFromDir(config.SCHEMES_DIR).filter((s) =>
    opts.scheme ? s.id === opts.scheme : s.enabled,
  );
  if (schemes.length === 0)
    throw new Error(
      opts.scheme ? `no scheme "${opts.scheme}" in ${config.SCHEMES_DIR}` : 'no enabled scheme',
    );
  const rt = await openCliRuntime(config, 'backfill-cli');
  const client = createWdtClient(config, logger);
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
  const bars = new MultiBar(
    {
      format:
        '{scheme} |{bar}| window {value}/{total} | {records} records, {pages} pages, {emitted} emitted | {rate} rec/s | ETA {eta}s',
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  try {
    for (const scheme of schemes) {
      const service = new ExtractionService(
        scheme,
        client,
        new PostgresExtractionStore(rt.ds),
        sink,
        systemClock,
        { sid: config.WDT_SID, method: scheme.source.method },
        logger,
        undefined,
        config.EXTRACTOR_RECORD_REREADS,
      );
      const started = Date.now();
      const totals = { records: 0, pages: 0, emitted: 0 };
      let bar: ReturnType<MultiBar['create']> | undefined;
      const stats = await service.backfill(opts.from, opts.to, {
        force: opts.force,
        onWindow: (w, done, total) => {
          totals.records += w.fetched;
          totals.pages += w.pages;
          totals.emitted += w.emitted;
          bar ??= bars.create(total, 0, { scheme: scheme.id, ...totals, rate: 0 });
          bar.update(done, {
            ...totals,
            rate: Math.round(totals.records / Math.max(0.001, (Date.now() - started) / 1000)),
          });
        },
      });
      bars.stop();
      console.log(
        `${scheme.id}: ${stats.fetched} records in ${stats.windows.length} windows, ${stats.emitted} emitted, ${stats.unchanged} unchanged, ${stats.parked} parked, ${stats.httpCalls} API calls`,
      );
    }
  } finally {
    bars.stop();
    await rt.close();
  }
}

main().catch((err) => {
  console.error(`backfill failed: ${(err as Error).message}`);
  process.exit(1);
});
