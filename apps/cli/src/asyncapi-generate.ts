// Writes docs/asyncapi.yaml from the zod contracts (the drift test compares the two).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildAsyncApiDocument } from '@libs/contracts';

const target = join(process.cwd(), 'docs', 'asyncapi.yaml');
writeFileSync(
  target,
  '# Generated from libs/contracts by `npm run asyncapi:generate`; a test fails when it drifts.\n' +
    stringify(buildAsyncApiDocument(), { lineWidth: 0 }),
);
console.log(`wrote ${target}`);
