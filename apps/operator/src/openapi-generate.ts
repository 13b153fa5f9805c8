import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOpenApiDocument } from '@libs/operator';

/** Writes docs/openapi.json (the operator API document; a test checks it equals what the app serves). */
async function main(): Promise<void> {
  const target = process.argv[2] ?? join(process.cwd(), 'docs', 'openapi.json');
  writeFileSync(target, `${JSON.stringify(await buildOpenApiDocument(), null, 2)}\n`);
  console.log(`wrote ${target}`);
}

void main();
