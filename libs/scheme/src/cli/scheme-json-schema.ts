#!/usr/bin/env node
import { Command } from 'commander';
import * as fs from 'node:fs';
import { schemeJsonSchemaText } from '../scheme-json-schema.util';

/** Prints the scheme JSON Schema, or writes it (`--write schemes/scheme.schema.json`). */
const program = new Command()
  .name('scheme-json-schema')
  .description('Print or write the JSON Schema of scheme files (generated from the zod schema).')
  .option('-w, --write <file>', 'write to this file instead of stdout')
  .action((opts: { write?: string }) => {
    const text = schemeJsonSchemaText();
    if (opts.write) fs.writeFileSync(opts.write, text);
    else process.stdout.write(text);
  });
program.parse();
