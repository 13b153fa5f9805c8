// Tests WDT and Kingdee connections (one empty-window query / a login and a one-row query each) and
// prints a table; exits 1 when any test failed, 2 on a usage or configuration error.
import { Command, Option } from 'commander';
import { silentLogger } from '@libs/common';
import { loadEnvFile } from '@libs/config';
import {
  ConnectionKind,
  formatConnectionTable,
  runConnectionTests,
  selectConnections,
  testKingdeeConnection,
  testWdtConnection,
} from '@libs/connection-health';
import { loadConnections } from '@libs/connections';
import { KingdeeSessionPool } from '@libs/kingdee-client';
import { createWdtClient } from '@libs/wdt-client';

async function main(): Promise<number> {
  const program = new Command('connections:test')
    .description(
      'Tests connections of CONNECTIONS_FILE (default config/connections.yaml) and the single-account ' +
        'variables (the `default` connection): WDT one query of an empty window, Kingdee a login and a ' +
        'one-row query. Exit 1 when any fails.',
    )
    .addOption(new Option('--kind <kind>', 'only this kind').choices(['wdt', 'kingdee']))
    .option('--timeout <ms>', 'give up on one test after this long', '15000')
    .option('--json', 'print JSON lines instead of a table')
    .argument('[name...]', 'connections to test (default: all)')
    .exitOverride();
  program.parse(process.argv);
  const opts = program.opts<{ kind?: ConnectionKind; timeout: string; json?: boolean }>();
  const names = program.args;
  await loadEnvFile();
  // Which kinds exist (no secret read), then the secrets of those to test.
  const outline = loadConnections({ env: process.env, kinds: [] });
  const kinds = (['wdt', 'kingdee'] as const).filter(
    (k) =>
      (!opts.kind || opts.kind === k) &&
      (k === 'wdt' ? outline.wdtNames() : outline.kingdeeNames()).length > 0,
  );
  const registry = loadConnections({ env: process.env, kinds: [...kinds] });
  const selected = selectConnections(registry, { kind: opts.kind, names });
  if (selected.length === 0) {
    console.error(`no ${opts.kind ?? ''} connection to test (${registry.source})`.replace('  ', ' '));
    return 2;
  }
  const timeoutMs = Number(opts.timeout);
  const rows = await runConnectionTests(registry, selected, (kind, name) =>
    kind === 'wdt'
      ? testWdtConnection(createWdtClient(registry.wdt(name).clientOptions, silentLogger), { timeoutMs })
      : testKingdeeConnection(
          new KingdeeSessionPool({ ...registry.kingdee(name).clientOptions, sessions: 1 }),
          {
            timeoutMs,
          },
        ),
  );
  if (opts.json) for (const r of rows) console.log(JSON.stringify(r));
  else console.log(formatConnectionTable(rows));
  const failed = rows.filter((r) => !r.ok);
  if (failed.length > 0)
    console.error(
      `${failed.length} of ${rows.length} failed: ${failed.map((r) => `${r.kind}:${r.name}`).join(', ')}`,
    );
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error & { code?: string; exitCode?: number }) => {
    if (err.code?.startsWith('commander.')) process.exit(err.exitCode === 0 ? 0 : 2);
    console.error(`connections:test: ${err.message}`);
    process.exit(2);
  },
);
