// `npm run resync -- --scheme <id> --order <orderNo> [--order …] [--no-wait]`
// Asks the extractor to re-fetch orders from WDT (narrow window around the time each was last
// seen) and re-push them through transformer and loader; waits for the extractor's answer.
import { userInfo } from 'node:os';
import { Command } from 'commander';
import { OrderOutcomes, ResyncService } from '@libs/operator';
import { loadCliConfig, openCliRuntime, selectSchemes } from './cli-runtime';

const collect = (v: string, prev: string[]) => [...prev, v];
const opts = new Command()
  .name('resync')
  .requiredOption('--scheme <id>', 'scheme id')
  .requiredOption('--order <orderNo>', 'WDT order number (repeatable)', collect, [])
  .option('--no-wait', 'do not wait for the extractor to carry the requests out')
  .option('--timeout <s>', 'how long to wait', '120')
  .parse()
  .opts<{ scheme: string; order: string[]; wait: boolean; timeout: string }>();

async function main(): Promise<void> {
  const config = await loadCliConfig('transformer');
  // A request for a scheme no extractor runs would wait forever: refuse it before anything is written.
  selectSchemes(config, opts.scheme);
  const timeout = Number(opts.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new Error(`--timeout must be a positive number of seconds, got "${opts.timeout}"`);
  const rt = await openCliRuntime('transformer', 'resync-cli');
  try {
    const service = new ResyncService(rt.ds);
    const outcomes = new OrderOutcomes(rt.ds);
    const since = await outcomes.now();
    const requests = await service.requestMany(opts.scheme, opts.order, `cli:${userInfo().username}`);
    for (const r of requests)
      console.log(`  ${r.orderNo}: request ${r.id} ${r.created ? 'created' : 'already pending'}`);
    if (!opts.wait) return;
    // Waits for what became of each order downstream, not just for the extractor's re-emit.
    const left = await outcomes.waitAll(
      requests.map((r) => ({ schemeId: opts.scheme, orderNo: r.orderNo, resyncRequestId: r.id })),
      since,
      timeout * 1000,
      (o) => console.log(`  ${o.orderNo}: ${o.status} at ${o.stage} — ${o.summary}`),
    );
    if (left.length > 0) {
      console.error(
        `${left.length} order(s) without an outcome after ${opts.timeout} s: is every service running for scheme ${opts.scheme}?`,
      );
      process.exitCode = 1;
    }
  } finally {
    await rt.close();
  }
}

main().catch((err) => {
  console.error(`resync failed: ${(err as Error).message}`);
  process.exit(1);
});
