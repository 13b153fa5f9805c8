import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { buildOpenApiDocument } from '@libs/operator';

/** Writes docs/openapi.json (the operator API document; a test checks it equals what the app serves). */
async function main(): Promise<void> {
  const target = process.argv[2] ?? join(process.cwd(), 'docs', 'openapi.json');
  // Formatted as the repository's prettier check wants it (the file is committed).
  const options = { ...(await resolveConfig(target)), filepath: target };
  writeFileSync(target, await format(JSON.stringify(await buildOpenApiDocument()), options));
  console.log(`wrote ${target}`);
}

void main();
