// `npm run repush -- [--dead-letter <id>…] [--order <no>…] [--all-failed] [--all-dead-lettered] [--scheme <id>]
//   [--payload] [--dry-run] [--no-wait] [--timeout <s>] [--list]`
// Lists failed and dead-lettered records with their reasons, or re-pushes them (same rules as the
// operator API: each order is read again from WDT and re-emitted; `--payload` re-sends a dead
// letter's parked bytes instead; a dead letter whose order is loaded is closed). Prints the WDT calls
// it will use before it starts, then waits for and prints each order's outcome. Recorded as actions
// of "cli:<user>".
import { userInfo } from 'node:os';
import { Command } from 'commander';
import {
  DeadLettersService,
  OperatorActionsService,
  OrderOutcomes,
  RepushService,
  ResyncService,
} from '@libs/operator';
import { SyncCursorEntity } from '@libs/database';
import { UnknownSchemeError } from '@libs/scheme';
import { loadCliConfig, openCliRuntime, selectSchemes } from './cli-runtime';

const collect = (v: string, prev: string[]) => [...prev, v];
const opts = new Command()
  .name('repush')
  .option('--dead-letter <id>', 'a dead letter id (repeatable)', collect, [])
  .option('--order <orderNo>', 'a WDT order number (repeatable)', collect, [])
  .option('--all-failed', 'every order whose latest status is failed', false)
  .option('--all-dead-lettered', 'every order whose latest status is dead_lettered', false)
  .option('--scheme <id>', 'limit to one scheme')
  .option('--list', 'only list failed orders and parked dead letters, with reasons', false)
  .option('--payload', "re-send dead letters' parked bytes instead of reading the orders again", false)
  .option('--dry-run', 'only print what it would do and the WDT calls it would take', false)
  .option('--no-wait', 'return once requested, without waiting for the outcomes')
  .option('--timeout <s>', 'how long to wait for the outcomes', '180')
  .parse()
  .opts<{
    deadLetter: string[];
    order: string[];
    allFailed: boolean;
    allDeadLettered: boolean;
    scheme?: string;
    list: boolean;
    payload: boolean;
    dryRun: boolean;
    wait: boolean;
    timeout: string;
  }>();

async function main(): Promise<void> {
  const config = await loadCliConfig('transformer');
  const rt = await openCliRuntime('transformer', 'repush-cli');
  try {
    if (opts.scheme !== undefined) {
      // As the operator API: a scheme of the files, or one known from its cursor row.
      const cursors = await rt.ds.getRepository(SyncCursorEntity).find({ select: { schemeId: true } });
      const known = [...selectSchemes(config).map((s) => s.id), ...cursors.map((c) => c.schemeId)];
      if (!known.includes(opts.scheme))
        throw new UnknownSchemeError(opts.scheme, known, `scheme files in ${config.SCHEMES_DIR}, cursors`);
    }
    if (
      opts.list ||
      (!opts.deadLetter.length && !opts.order.length && !opts.allFailed && !opts.allDeadLettered)
    ) {
      // Raw: the CLI's read model (a computed "why" column) for a terminal table, optional scheme filter in SQL.
      const failed: Array<Record<string, string>> = await rt.ds.query(
        `SELECT scheme_id, source_key, status, stage, coalesce(error_field || ': ', '') || coalesce(error_message, reason, '') AS why
           FROM audit_orders WHERE status IN ('failed','dead_lettered') AND ($1::text IS NULL OR scheme_id = $1)
          ORDER BY last_occurred_at DESC LIMIT 200`,
        [opts.scheme ?? null],
      );
      // Raw: the CLI's read model (computed key column) for a terminal table, optional scheme filter in SQL.
      const parked: Array<Record<string, string>> = await rt.ds.query(
        `SELECT event_id, stage, coalesce(source_key, origin_key, '') AS key, error_class, error_message
           FROM dead_letters WHERE state = 'parked' AND ($1::text IS NULL OR scheme_id = $1) ORDER BY occurred_at DESC LIMIT 200`,
        [opts.scheme ?? null],
      );
      console.log(`failed / dead-lettered orders (${failed.length}):`);
      for (const r of failed)
        console.log(`  ${r.source_key.padEnd(24)} ${r.status.padEnd(14)} ${r.stage.padEnd(12)} ${r.why}`);
      console.log(`parked dead letters (${parked.length}):`);
      for (const r of parked)
        console.log(
          `  ${r.event_id}  ${r.stage.padEnd(12)} ${r.key.padEnd(24)} ${r.error_class}: ${r.error_message}`,
        );
      return;
    }
    const deadLetters = new DeadLettersService(rt.ds);
    const resync = new ResyncService(rt.ds);
    const service = new RepushService(
      rt.ds,
      rt.producer,
      deadLetters,
      resync,
      new OperatorActionsService(rt.ds),
    );
    const all = opts.allFailed
      ? { status: 'failed' as const, schemeId: opts.scheme }
      : opts.allDeadLettered
        ? { status: 'dead_lettered' as const, schemeId: opts.scheme }
        : undefined;
    const request = {
      deadLetterIds: opts.deadLetter,
      orderNos: opts.order,
      schemeId: opts.scheme,
      all: all ? { ...all, limit: 1000 } : undefined,
      force: false,
      payload: opts.payload,
    };
    const by = `cli:${userInfo().username}`;
    const plan = await service.repush({ ...request, dryRun: true }, by);
    const rereads = plan.results.filter((r) => r.outcome === 'planned' && r.orderNo).length;
    console.log(
      `re-push: ${plan.results.length} item(s); ${rereads} order(s) read again from WDT in windows taking at least ${plan.wdtCalls} WDT call(s), at background priority`,
    );
    if (opts.dryRun) {
      for (const item of plan.results) console.log(`  ${JSON.stringify(item)}`);
      return;
    }
    const outcomes = new OrderOutcomes(rt.ds);
    const since = await outcomes.now();
    const result = await service.repush({ ...request, dryRun: false }, by);
    for (const item of result.results) console.log(`  ${JSON.stringify(item)}`);
    console.log(
      `summary: ${JSON.stringify(result.summary)}${result.truncated ? ' (truncated: run again for the rest)' : ''}`,
    );
    const awaited = result.results
      .filter(
        (r) =>
          r.schemeId && r.orderNo && ['repushed', 'resync_requested', 'resync_pending'].includes(r.outcome),
      )
      .map((r) => ({ schemeId: r.schemeId!, orderNo: r.orderNo!, resyncRequestId: r.resyncRequestId }));
    if (!opts.wait || awaited.length === 0) return;
    console.log(`waiting for ${awaited.length} outcome(s) (--no-wait to skip)…`);
    const left = await outcomes.waitAll(awaited, since, Number(opts.timeout) * 1000, (o) =>
      console.log(`  ${o.orderNo} (${o.schemeId}): ${o.status} at ${o.stage} — ${o.summary}`),
    );
    if (left.length > 0) {
      console.error(
        `${left.length} order(s) without an outcome after ${opts.timeout} s: ${left.map((o) => o.orderNo).join(', ')} (are the services running?)`,
      );
      process.exitCode = 1;
    }
  } finally {
    await rt.close();
  }
}

main().catch((err) => {
  console.error(`repush failed: ${(err as Error).message}`);
  process.exit(1);
});
