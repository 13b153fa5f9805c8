#!/usr/bin/env node
import { Command } from 'commander';
import { processIo } from './cli-io.util';
import { runSchemeCheck } from './scheme-check.command';

const program = new Command()
  .name('scheme-check')
  .description(
    'Validate integration scheme files (YAML/JSON): syntax, shape, templates, formulas, cron, value maps.',
  )
  .argument('<paths...>', 'scheme files or directories of scheme files')
  .action((paths: string[]) => {
    process.exitCode = runSchemeCheck(paths, processIo);
  });
program.parse();
