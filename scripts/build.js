#!/usr/bin/env node
// Compiles apps/ and libs/ (TypeScript) to dist/ with SWC, one file at a time, mirroring the tree.
// Type checking is `npm run typecheck` (tsc --noEmit); SWC only strips types, which keeps the
// build a few seconds on 2 cores. `@libs/<name>` imports are rewritten to relative paths so the
// output runs on plain Node without a path-mapping loader. The console (apps/console, browser code)
// is not compiled by SWC: `vite build` bundles it into dist/console after the services.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');

const root = path.resolve(__dirname, '..');
const outRoot = path.join(root, 'dist');
// tools/ (dev stack, benchmarks, demo) is compiled too, into dist/tools: the image copies only
// the production parts of dist (see Dockerfile).
const sourceDirs = ['apps', 'libs', 'examples', 'tools'];
const consoleDir = path.join('apps', 'console');

function* walk(dir) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}

const options = (filename) => ({
  filename,
  sourceMaps: 'inline',
  module: { type: 'commonjs' },
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    baseUrl: root,
    paths: { '@libs/*': ['libs/*/src'], '@tools/*': ['tools/*'] },
    keepClassNames: true,
  },
});

fs.rmSync(outRoot, { recursive: true, force: true });
let count = 0;
for (const dir of sourceDirs) {
  for (const file of walk(path.join(root, dir))) {
    const rel = path.relative(root, file);
    if (rel.startsWith(consoleDir + path.sep)) continue;
    const out = path.join(outRoot, rel);
    // Specs and their fakes (`*.fake.ts`) are test code: never in dist/ or an image.
    if (file.endsWith('.ts') && !/\.(spec|fake|d)\.ts$/.test(file)) {
      const { code } = swc.transformFileSync(file, options(file));
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out.replace(/\.ts$/, '.js'), code);
      count += 1;
    } else if (/\.(json|ya?ml|sql)$/.test(file)) {
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.copyFileSync(file, out);
    }
  }
}
console.log(`build: ${count} files compiled to dist/`);

// After the wipe above, so dist/console survives; Vite is ESM, hence the dynamic import.
// Vite warns that a native config loader will not read this .ts config; the bundling loader does.
process.env.VITE_CONFIG_NATIVE_IGNORE_WARNING ??= 'true';
import('vite')
  .then(({ build }) => build({ configFile: path.join(root, consoleDir, 'vite.config.ts'), logLevel: 'warn' }))
  .then(() => console.log('build: console bundled to dist/console/'))
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
