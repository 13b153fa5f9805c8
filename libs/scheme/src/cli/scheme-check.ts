#!/usr/bin/env node
import { Command } from 'commander';
import { readConnectionsOutline } from '@libs/connections';
import { processIo } from './cli-io.util';
import { runSchemeCheckCli } from './scheme-check.command';

const program = new Command()
  .name('scheme-check')
  .description(
    'Validate integration scheme files (YAML/JSON): syntax, shape, extends, templates, formulas, cron, value maps;\n' +
      'with the connections, also connection names and idempotency keys that could collide in one Kingdee account.',
  )
  .argument('<paths...>', 'scheme files or directories of scheme files (checked together)')
  .option(
    '--connections <file>',
    'connections file (default: CONNECTIONS_FILE, config/connections.yaml, or the environment default)',
  )
  .action((paths: string[], opts: { connections?: string }) => {
    process.exitCode = runSchemeCheckCli(paths, opts, processIo, {
      env: process.env,
      readOutline: readConnectionsOutline,
    });
  });
program.parse();
