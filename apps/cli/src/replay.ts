// `npm run replay -- --from <time|offset> [--to <time|offset>] [--stage transform|load]`
// Re-runs a downstream stage over history with a fresh consumer group (live consumers' offsets are
// untouched): `transform` re-maps raw events from the raw topic and re-emits Kingdee documents (the
// live loader then loads them, without duplicating a bill); `load` feeds stored documents straight
// to the loader's logic. Reads the same environment as the transformer / loader services.
import { hostname } from 'node:os';
import { Command } from 'commander';
import { LoaderConfig } from '@libs/config';
import { createLoaderEngine, LoaderEngine, replayLoad } from '@libs/loading';
import { loadSchemesFromDir } from '@libs/scheme';
import { createTransformProcessor, replayTransform } from '@libs/transform';
import { CliProgress } from './cli-progress.util';
import { assertOrderedRange, loadCliConfig, openCliRuntime, parseBound } from './cli-runtime';

const opts = new Command()
  .name('replay')
  .requiredOption(
    '--from <time|offset>',
    'start: ISO time, "yyyy-MM-dd HH:mm:ss" (Shanghai), an offset, or "beginning"',
  )
  .option('--to <time|offset>', 'end (exclusive); default: the end of the topic now')
  .option('--stage <stage>', 'transform (raw → documents) or load (documents → Kingdee)', 'transform')
  .option('--quiet', 'no progress bar', false)
  .parse()
  .opts<{ from: string; to?: string; stage: string; quiet: boolean }>();

async function main(): Promise<void> {
  if (opts.stage !== 'transform' && opts.stage !== 'load')
    throw new Error(`--stage must be transform or load, got "${opts.stage}"`);
  const from = parseBound(opts.from);
  const to = opts.to ? parseBound(opts.to) : undefined;
  assertOrderedRange(
    { text: opts.from, bound: from },
    opts.to && to ? { text: opts.to, bound: to } : undefined,
  );
  const config = opts.stage === 'load' ? await loadCliConfig('loader') : await loadCliConfig('transformer');
  const rt = await openCliRuntime(opts.stage === 'load' ? 'loader' : 'transformer', `replay-${opts.stage}`);
  const { topics, logger } = rt;
  const progress = new CliProgress({
    label: `replay ${opts.stage}`,
    describe: (done, total, f) => `${done}/${total} messages, ${f.rate}/s`,
    barFormat: '{label} |{bar}| {value}/{total} messages | {rate}/s | ETA {eta_formatted}',
  });
  const started = Date.now();
  let counts = { documents: 0, skipped: 0, deadLettered: 0 };
  let engine: LoaderEngine | undefined;
  try {
    let topic: string;
    const onProgress = (p: { done: number; total: number }) => {
      if (opts.quiet) return;
      progress.update(p.done, p.total, {
        rate: Math.round(p.done / Math.max(0.001, (Date.now() - started) / 1000)),
      });
    };
    let read: { done: number };
    if (opts.stage === 'transform') {
      topic = topics.rawStockout;
      const { processor } = createTransformProcessor({
        config,
        ds: rt.ds,
        producer: rt.producer,
        topics,
        logger,
      });
      const result = await replayTransform(
        { kafka: rt.kafka, processor, rawTopic: topic },
        { from, to },
        { onProgress },
      );
      counts = { documents: result.documents, skipped: result.skipped, deadLettered: result.deadLettered };
      read = result;
    } else {
      topic = topics.kingdeeDocument;
      const schemes = new Map(loadSchemesFromDir(config.SCHEMES_DIR).map((s) => [s.id, s]));
      // The same protocol as the live loader (claims, fencing, settling); the live loaders drain
      // what this parks and settle what it leaves.
      engine = createLoaderEngine({
        config: config as LoaderConfig,
        registry: rt.connections!,
        ds: rt.ds,
        producer: rt.producer,
        topics,
        schemes,
        owner: `replay-${hostname()}-${process.pid}`,
        logger,
        drain: false,
      });
      await engine.start();
      read = await replayLoad(
        { kafka: rt.kafka, engine, documentTopic: topic },
        { from, to },
        { onProgress },
      );
    }
    progress.stop();
    const tail =
      opts.stage === 'transform'
        ? ` → ${counts.documents} documents, ${counts.skipped} skipped, ${counts.deadLettered} dead-lettered`
        : '';
    console.log(
      `replayed ${read.done} messages of ${topic} in ${((Date.now() - started) / 1000).toFixed(1)} s${tail}`,
    );
  } finally {
    progress.stop();
    await engine?.stop();
    await rt.close();
  }
}

main().catch((err) => {
  console.error(`replay failed: ${(err as Error).message}`);
  process.exit(1);
});
