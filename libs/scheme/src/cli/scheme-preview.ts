#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { processIo } from './cli-io.util';
import { runSchemePreview } from './scheme-preview.command';

const program = new Command()
  .name('scheme-preview')
  .description(
    'Print the Kingdee save request a scheme makes of one WDT record (or the skip reason / mapping error).\n' +
      'Exit codes: 0 document, 1 bad scheme or input, 2 mapping error, 3 skipped by a precondition.',
  )
  .argument('<scheme>', 'scheme file (YAML or JSON)')
  .argument('<record>', 'WDT record JSON (a record, an array, or a response with stockout_list)')
  .option('-i, --index <n>', 'which record when the file holds several', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a non-negative integer');
    return n;
  })
  .option('--sid <sid>', 'the sid {{$sid}} / $sid stand for (the shop the record comes from)')
  .action(async (scheme: string, record: string, opts: { index?: number; sid?: string }) => {
    process.exitCode = await runSchemePreview(scheme, record, opts, processIo);
  });
program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`scheme-preview: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
