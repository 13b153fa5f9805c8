// `npm run reconcile -- --scheme <id> --from "yyyy-MM-dd HH:mm:ss" --to "yyyy-MM-dd HH:mm:ss"`
// (or `--day yyyy-MM-dd`): reconciles one scheme over one period in this process, with the WDT and
// Kingdee credentials of the environment (as the reconciler service has them), and records the run
// like any other (trigger `cli`), so the console and the API show it. Exit 0: every key matched;
// 3: findings; 1: the run failed or could not start.
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Command } from 'commander';
import { PostgresKingdeeSlotLeases, PostgresWdtCallGate } from '@libs/shared-limits';
import { alertChannelsFromConfig, AlertNotifier } from '@libs/alerts';
import {
  createReconcileConnections,
  createReconcileEngine,
  describeFinding,
  EMPTY_COUNTS,
  FindingKind,
  firstFindings,
  markRunCancelled,
  ReconcileRunStore,
  reconcileCsv,
  reconcileWorkbook,
  runLeased,
} from '@libs/reconcile';
import { CliProgress } from './cli-progress.util';
import { loadCliConfig, openCliRuntime, selectSchemes } from './cli-runtime';
import { parseReconcileArgs, progressView, reconcileExitCode } from './reconcile-args';

const FINDINGS_SHOWN = 20;

const opts = new Command()
  .name('reconcile')
  .option('--scheme <id>', 'scheme id')
  .option('--from <time>', 'period start, "yyyy-MM-dd HH:mm:ss" Shanghai wall-clock (or ISO 8601), inclusive')
  .option('--to <time>', 'period end, "yyyy-MM-dd HH:mm:ss" Shanghai wall-clock (or ISO 8601), inclusive')
  .option('--day <date>', 'a whole Shanghai day, yyyy-MM-dd (instead of --from/--to)')
  .option('--findings <n>', `findings to print (default ${FINDINGS_SHOWN})`, String(FINDINGS_SHOWN))
  .option('--export <file>', "write the run's findings to <file>: .xlsx (one sheet per class) or .csv")
  .parse()
  .opts<{ scheme?: string; from?: string; to?: string; day?: string; findings: string; export?: string }>();

async function main(): Promise<number> {
  const config = await loadCliConfig('reconciler');
  const schemes = selectSchemes(config);
  // Everything a person can get wrong is refused before anything connects.
  const request = parseReconcileArgs(
    opts,
    schemes.map((s) => s.id),
  );
  const scheme = schemes.find((s) => s.id === request.schemeId)!;
  if (opts.export !== undefined && !/\.(xlsx|csv)$/i.test(opts.export))
    throw new Error(`--export "${opts.export}": the file must end in .xlsx or .csv`);
  const rt = await openCliRuntime('reconciler', 'reconcile-cli');
  const { logger } = rt;
  // WDT app keys' calls and Kingdee session slots are shared with the running services through Postgres.
  const instance = `reconcile-${hostname()}-${process.pid}`;
  const gate = new PostgresWdtCallGate(rt.ds, { instance, logger });
  const slots = new PostgresKingdeeSlotLeases(rt.ds, { instance, logger });
  const { wdt, kingdee } = createReconcileConnections(
    rt.connections!,
    config.RECONCILE_KINGDEE_SESSIONS,
    logger,
    { gate, slots },
  );
  const alerts = new AlertNotifier(alertChannelsFromConfig(config), {
    minIntervalMs: config.ALERT_MIN_INTERVAL_SECONDS * 1000,
    logger,
  });
  const engine = createReconcileEngine({
    ds: rt.ds,
    schemes: (id) => (id === scheme.id ? scheme : undefined),
    wdt,
    kingdee,
    producer: rt.producer,
    topics: rt.topics,
    alerts,
    logger,
    kingdeePageRows: config.RECONCILE_KINGDEE_PAGE_ROWS,
  });
  const owner = `cli:${hostname()}-${process.pid}`;
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = new CliProgress({
    label: `reconcile ${scheme.id}`,
    describe: (done, total, f) =>
      `${f.phase} ${done}/${total}: ${f.orders} orders (${f.wdtCalls} WDT calls), ${f.bills} bills (${f.rows} rows, ${f.kingdeeCalls} Kingdee calls), ${f.keys} keys compared`,
    barFormat:
      '{label} |{bar}| {phase} {value}/{total} | {orders} orders, {wdtCalls} WDT calls | {bills} bills, {kingdeeCalls} Kingdee calls | {keys} keys',
  });
  try {
    const runId = await engine.runs.create({
      schemeId: scheme.id,
      from: request.from,
      to: request.to,
      trigger: 'cli',
      requestedBy: `cli:${process.env.USER ?? hostname()}`,
      owner,
    });
    if (!runId) throw new Error('the run was not recorded');
    console.log(`reconcile ${scheme.id}: run ${runId}, ${request.from} – ${request.to}`);
    const started = Date.now();
    const outcome = await runLeased(
      {
        lease: engine.runs,
        carrier: engine.service,
        cancel: (id, o) => markRunCancelled(rt.ds, id, o),
        leaseMs: config.RECONCILE_LEASE_MS,
        logger,
      },
      runId,
      owner,
      {
        shutdown: interrupt.signal,
        onProgress: (p) => {
          const v = progressView(p);
          progress.update(v.done, v.total, v.fields);
        },
      },
    );
    progress.stop();
    if (outcome.kind === 'interrupted') {
      // Stopped here (Ctrl-C) or taken over: a run left without a holder would be picked up by a reconciler.
      if (outcome.reason === 'shutdown') await markRunCancelled(rt.ds, runId, owner);
      console.error(
        outcome.reason === 'shutdown'
          ? `run ${runId} cancelled (interrupted)`
          : `run ${runId}: lease lost, another reconciler took it over`,
      );
      return 1;
    }
    if (outcome.kind === 'cancelled') {
      console.error(`run ${runId} cancelled by an operator`);
      return 1;
    }
    const view = outcome.view;
    const seconds = (Date.now() - started) / 1000;
    if (view.state !== 'done') {
      console.error(`run ${runId} ${view.state}: ${view.error ?? 'no reason recorded'}`);
      return 1;
    }
    const counts = view.counts ?? { ...EMPTY_COUNTS };
    const p = view.progress;
    console.log(
      `${scheme.id} ${view.periodFrom} – ${view.periodTo}: ${p.sourceOrders ?? 0} orders (${p.wdtCalls ?? 0} WDT calls), ${p.targetBills ?? 0} bills (${p.kingdeeCalls ?? 0} Kingdee calls) in ${seconds.toFixed(1)} s`,
    );
    for (const kind of Object.keys(EMPTY_COUNTS) as FindingKind[])
      console.log(`  ${kind.padEnd(18)} ${counts[kind]}`);
    const shown = await firstFindings(rt.ds, runId, Math.max(0, Number(opts.findings) || 0));
    if (shown.length > 0) {
      const total = Object.entries(counts).reduce((n, [k, v]) => (k === 'matched' ? n : n + v), 0);
      console.log(`findings${total > shown.length ? ` (first ${shown.length} of ${total})` : ''}:`);
      for (const f of shown) console.log(`  ${describeFinding(f)}`);
      console.log(`details and re-push of run ${runId}: the console's reconciliation page`);
    }
    if (opts.export !== undefined) {
      const store = new ReconcileRunStore(rt.ds);
      const [run, findings] = [await store.get(runId), await store.findings(runId)];
      const body = /\.csv$/i.test(opts.export)
        ? reconcileCsv(findings)
        : Buffer.from(await reconcileWorkbook(run!, findings).xlsx.writeBuffer());
      writeFileSync(opts.export, body);
      console.log(`wrote ${findings.length} findings to ${opts.export}`);
    }
    return reconcileExitCode(view.state, counts);
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await alerts.flush();
    await gate.stop();
    await slots.releaseAll().catch(() => undefined);
    await rt.close();
  }
}

main()
  .then((code) => process.exit(code))
  .catch((err) => {
    console.error(`reconcile failed: ${(err as Error).message}`);
    process.exit(1);
  });
