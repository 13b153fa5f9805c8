import { loadSchemeFile, parseScheme, type Scheme } from '@libs/scheme';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  compileScheme,
  type CompiledMapping,
  type CompileOptions,
} from '../../../libs/mapping/src/compile-scheme.util';

/** Fixtures for the mapping unit tests (not used at runtime). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const SHIPPED_SCHEME_FILE = path.join(
  REPO_ROOT,
  'schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml',
);
export const FIXTURES = path.join(REPO_ROOT, 'test/mapping/fixtures');

export function fixtureText(name: string): string {
  return fs.readFileSync(path.join(FIXTURES, name), 'utf8');
}

export function fixtureJson<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

export function shippedScheme(): Scheme {
  return loadSchemeFile(SHIPPED_SCHEME_FILE);
}

export function shippedMapping(): CompiledMapping {
  return compileScheme(shippedScheme());
}

/** Compiles scheme YAML text (validated like a file). */
export function mappingFromYaml(text: string, options?: CompileOptions): CompiledMapping {
  return compileScheme(parseScheme(text, 'test-scheme.yaml'), options);
}

/** The golden record of seed-mapping.md (fresh copy per call). */
export function goldenRecord(): Record<string, unknown> {
  return JSON.parse(fixtureText('golden-record.verbatim.txt')) as Record<string, unknown>;
}
