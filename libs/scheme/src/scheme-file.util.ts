import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  visit,
  type Document,
  type Node as YamlNode,
} from 'yaml';
import type { z } from 'zod';
import { SchemeError, formatSchemePath, type SchemeIssue, type SchemePath } from './scheme.errors';
import { FORBIDDEN_KEYS, SchemeSchema, type Scheme } from './scheme.schema';
import { checkSchemeSemantics } from './scheme-semantics.util';

/**
 * Reading scheme files. YAML and JSON go through the same `yaml` document API (JSON is YAML), so
 * every problem — syntax, shape (zod), semantics — is reported as `file:line:col path: message`.
 */

const SCHEME_FILE = /\.(ya?ml|json)$/i;
const NOT_A_SCHEME = /\.schema\.json$/i;
const MAX_ALIAS_COUNT = 100;

type YamlDoc = Document.Parsed;

/** Where a path points in the document: 1-based line and column, or undefined. */
function locate(
  doc: YamlDoc | undefined,
  lc: LineCounter,
  segs: SchemePath,
  preferKey = false,
): { line: number; col: number } | undefined {
  if (!doc) return undefined;
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as YamlNode | null)?.range?.[0];
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const last = i === segs.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const keyOffset = (pair.key as YamlNode).range?.[0];
      const value = pair.value as YamlNode | null;
      offset = last && !preferKey && isScalar(value) ? value.range?.[0] : keyOffset;
      node = value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as YamlNode | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : lc.linePos(offset);
}

function issueAt(
  file: string,
  doc: YamlDoc | undefined,
  lc: LineCounter,
  segs: SchemePath,
  message: string,
  preferKey = false,
): SchemeIssue {
  const pos = locate(doc, lc, segs, preferKey);
  return { file, line: pos?.line, col: pos?.col, path: formatSchemePath(segs), segments: [...segs], message };
}

/** Plain YAML scalars that the core schema reads as something other than what was written. */
function ambiguousNumber(source: string, value: unknown): string | undefined {
  if (typeof value !== 'number') return undefined;
  if (/^[-+]?(\d+\.\d*|\.\d+|[1-9]\d{0,14}|0)$/.test(source)) return undefined;
  return `YAML reads ${source} as the number ${String(value)}; write "${source}" in quotes if text is meant`;
}

/** Lint over the YAML tree: forbidden keys, non-text keys, numbers that lose their spelling. */
function lintDocument(file: string, doc: YamlDoc, lc: LineCounter): SchemeIssue[] {
  const issues: SchemeIssue[] = [];
  const at = (node: YamlNode | null | undefined, message: string) => {
    const pos = node?.range ? lc.linePos(node.range[0]) : undefined;
    issues.push({ file, line: pos?.line, col: pos?.col, path: '(yaml)', message });
  };
  visit(doc, {
    Pair(_key, pair) {
      const k = pair.key as YamlNode | null;
      if (k !== null && !isScalar(k)) {
        at(k, 'map keys must be plain text');
      } else if (isScalar(k)) {
        if (typeof k.value === 'string' && FORBIDDEN_KEYS.has(k.value))
          at(k, `the key "${k.value}" is not allowed`);
        if (k.type === 'PLAIN' && typeof k.source === 'string') {
          const m = ambiguousNumber(k.source, k.value);
          if (m) at(k, m);
        }
        if (k.value === null || typeof k.value === 'boolean') {
          at(k, `YAML reads the key ${k.source ?? ''} as ${String(k.value)}; quote it`);
        }
      }
    },
    Scalar(key, node) {
      if (key === 'key') return;
      if (node.type === 'PLAIN' && typeof node.source === 'string') {
        const m = ambiguousNumber(node.source, node.value);
        if (m) at(node, m);
      }
    },
  });
  return issues;
}

/** Field names allowed at a schema path, for "unknown key" messages. */
function allowedKeysAt(segs: SchemePath): string[] {
  let schema: unknown = SchemeSchema;
  const unwrap = (s: unknown): unknown => {
    let cur = s as { _zod?: { def?: Record<string, unknown> } };
    for (let guard = 0; guard < 10; guard++) {
      const def = cur?._zod?.def;
      if (!def) return cur;
      if (['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch'].includes(String(def.type))) {
        cur = def.innerType as typeof cur;
      } else if (def.type === 'pipe') {
        cur = def.in as typeof cur;
      } else {
        return cur;
      }
    }
    return cur;
  };
  for (const seg of segs) {
    const def = (unwrap(schema) as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
    if (!def) return [];
    if (def.type === 'object') schema = (def.shape as Record<string, unknown>)[String(seg)];
    else if (def.type === 'record') schema = def.valueType;
    else if (def.type === 'array') schema = def.element;
    else return [];
  }
  const def = (unwrap(schema) as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
  return def?.type === 'object' ? Object.keys(def.shape as Record<string, unknown>) : [];
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(
        dp[j] + 1,
        dp[j - 1] + 1,
        prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return dp[b.length];
}

/** Places an issue at a path of the (merged) scheme: `preferKey` points at the key, not the value. */
type IssueAt = (segs: SchemePath, message: string, preferKey?: boolean) => SchemeIssue;

function zodIssues(error: z.ZodError, at: IssueAt): SchemeIssue[] {
  const out: SchemeIssue[] = [];
  for (const issue of error.issues) {
    const segs = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(segs);
      for (const key of issue.keys) {
        const near = allowed.filter((a) => editDistance(a, key) <= 2);
        const hint = near.length
          ? ` — did you mean ${near.join(' or ')}?`
          : allowed.length
            ? ` (allowed: ${allowed.join(', ')})`
            : '';
        out.push(at([...segs, key], `unknown key "${key}"${hint}`, true));
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_type' && /received undefined/.test(message)) {
      message = `is required (${issue.expected})`;
    } else if (issue.code === 'invalid_key') {
      const inner = (issue.issues ?? []).map((i) => i.message).join('; ');
      message = `key "${String(segs[segs.length - 1])}" ${inner || 'is not allowed'}`;
    }
    out.push(at(segs, message, issue.code === 'invalid_key'));
  }
  return out;
}

/** One file of a scheme: the scheme file itself or a base it extends. */
interface Layer {
  file: string;
  doc: YamlDoc;
  lc: LineCounter;
  data: Record<string, unknown>;
}

/**
 * Syntax, JSON strictness, lint and "the root is a map" of one file. Returns the layer and the
 * non-fatal issues (lint); throws `SchemeError` when the file cannot be read as a map at all.
 */
function readLayer(text: string, file: string): { layer: Layer; issues: SchemeIssue[] } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lc = new LineCounter();
  const docs = parseAllDocuments(body, {
    lineCounter: lc,
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
  });
  const docList = Array.isArray(docs) ? docs : [];
  if (docList.length === 0) {
    throw new SchemeError([{ file, line: 1, col: 1, path: '(root)', message: 'the file holds no scheme' }]);
  }
  const doc = docList[0];
  const issues: SchemeIssue[] = [];
  if (docList.length > 1) {
    const pos = docList[1].range ? lc.linePos(docList[1].range[0]) : undefined;
    issues.push({
      file,
      ...pos,
      path: '(yaml)',
      message: 'one scheme per file: a second YAML document starts here',
    });
  }
  for (const e of [...doc.errors, ...doc.warnings]) {
    const pos = lc.linePos(e.pos[0]);
    issues.push({
      file,
      line: pos.line,
      col: pos.col,
      path: '(yaml)',
      message: `YAML: ${e.message.split('\n')[0]}`,
    });
  }
  if (doc.errors.length > 0) throw new SchemeError(issues);
  if (/\.json$/i.test(file)) {
    // YAML accepts more than JSON (trailing commas, comments, bare words): hold .json files to JSON.
    try {
      JSON.parse(body);
    } catch (e) {
      const msg = (e as Error).message;
      const pos = jsonErrorPosition(body, msg);
      throw new SchemeError([
        { file, ...pos, path: '(json)', message: `invalid JSON: ${msg.split('\n')[0]}` },
      ]);
    }
  }
  issues.push(...lintDocument(file, doc, lc));
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    issues.push({ file, line: 1, col: 1, path: '(yaml)', message: `YAML: ${(e as Error).message}` });
    throw new SchemeError(issues);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data) || isAlias(doc.contents)) {
    issues.push({
      file,
      line: 1,
      col: 1,
      path: '(root)',
      message: 'a scheme is a mapping of keys (id, name, source, …)',
    });
    throw new SchemeError(issues);
  }
  return { layer: { file, doc, lc, data: data as Record<string, unknown> }, issues };
}

/** What `parseScheme` read besides the scheme text: each base file and its content hash. */
export interface SchemeBaseRead {
  /** The base file's path (resolved against the scheme file's directory). */
  file: string;
  /** sha256 of the bytes read, or null when the file could not be read. */
  sha256: string | null;
}

export interface ParseSchemeOptions {
  /**
   * The directory `extends` paths must stay inside (SCHEMES_DIR). Default: the scheme file's own
   * directory (schemes sit at the top of SCHEMES_DIR, bases in subfolders).
   */
  schemesDir?: string;
  /**
   * Filled with the base files read, nearest first — also when the scheme does not validate, so a
   * watcher can read the scheme again once one of them changes.
   */
  basesRead?: SchemeBaseRead[];
}

/** Longest `extends` chain (a scheme, its base, the base's base, …). */
const MAX_EXTENDS_DEPTH = 8;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep merge: objects merged key by key, arrays and scalars from `over` replace; `over` wins. */
export function mergeSchemeData(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base)) if (!FORBIDDEN_KEYS.has(k)) out[k] = v;
  for (const [k, v] of Object.entries(over)) {
    if (FORBIDDEN_KEYS.has(k)) continue; // reported by the lint; never written into an object
    const b = out[k];
    out[k] = isPlainObject(v) && isPlainObject(b) ? mergeSchemeData(b, v) : v;
  }
  return out;
}

function getAt(data: unknown, segs: SchemePath): { found: boolean; value: unknown } {
  let cur = data;
  for (const seg of segs) {
    if (Array.isArray(cur) && typeof seg === 'number' && seg < cur.length) cur = cur[seg];
    else if (isPlainObject(cur) && Object.hasOwn(cur, String(seg))) cur = cur[String(seg)];
    else return { found: false, value: undefined };
  }
  return { found: true, value: cur };
}

/**
 * The file the merged value at `segs` comes from: walking down, the highest-priority layer holding
 * each prefix; an array or scalar there belongs to that layer whole (it replaced the others').
 */
function ownerOf(layers: readonly Layer[], segs: SchemePath): Layer {
  let candidates = layers;
  for (let i = 0; i < segs.length; i++) {
    const prefix = segs.slice(0, i + 1);
    const having = candidates.filter((l) => getAt(l.data, prefix).found);
    if (having.length === 0) return candidates[0];
    if (!isPlainObject(getAt(having[0].data, prefix).value)) return having[0];
    candidates = having;
  }
  return candidates[0];
}

/**
 * A problem found in a base file, reported on the scheme file (at its `extends` key, so editors of
 * the scheme point at the right line) with the base file's own place in the message.
 */
function throughBase(issue: SchemeIssue, scheme: Layer): SchemeIssue {
  const pos = locate(scheme.doc, scheme.lc, ['extends'], true);
  const where = issue.line !== undefined ? `${issue.file}:${issue.line}:${issue.col ?? 1}` : issue.file;
  return {
    ...issue,
    file: scheme.file,
    line: pos?.line,
    col: pos?.col,
    message: `${issue.message} (in base ${where})`,
    base: { file: issue.file, line: issue.line, col: issue.col },
  };
}

/**
 * Follows `extends` from the scheme file: returns the layers, scheme first then each base, and the
 * issues found on the way (reported on the scheme file). Stops at the first broken link.
 */
function resolveBases(
  scheme: Layer,
  root: string,
  basesRead: SchemeBaseRead[],
): { layers: Layer[]; issues: SchemeIssue[]; broken: boolean } {
  const layers: Layer[] = [scheme];
  let broken = false;
  const issues: SchemeIssue[] = [];
  const rootAbs = path.resolve(root);
  const chain: string[] = [path.resolve(scheme.file)];
  const shown: string[] = [scheme.file];
  let current = scheme;
  const fail = (message: string) => {
    broken = true;
    const issue = issueAt(current.file, current.doc, current.lc, ['extends'], message);
    issues.push(current === scheme ? issue : throughBase(issue, scheme));
  };
  while (current.data.extends !== undefined) {
    const ext = current.data.extends;
    if (typeof ext !== 'string' || ext.trim() === '') {
      fail('extends must be a relative path of a base file, like bases/pur-mrb.base.yaml');
      break;
    }
    if (path.isAbsolute(ext)) {
      fail(`extends "${ext}" must be relative to this file (like bases/pur-mrb.base.yaml)`);
      break;
    }
    const display = path.join(path.dirname(current.file), ext);
    const abs = path.resolve(display);
    const rel = path.relative(rootAbs, abs);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
      fail(`extends "${ext}" leaves the schemes directory ${root}; bases live in a subfolder of it`);
      break;
    }
    if (!SCHEME_FILE.test(abs)) {
      fail(`extends "${ext}" must name a .yaml, .yml or .json file`);
      break;
    }
    if (chain.includes(abs)) {
      fail(`extends cycle: ${[...shown, display].join(' → ')}`);
      break;
    }
    if (layers.length > MAX_EXTENDS_DEPTH) {
      fail(`extends chain longer than ${MAX_EXTENDS_DEPTH}: ${[...shown, display].join(' → ')}`);
      break;
    }
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(abs);
    } catch (e) {
      basesRead.push({ file: display, sha256: null });
      fail(`extends "${ext}": cannot read ${display}: ${(e as Error).message}`);
      break;
    }
    basesRead.push({ file: display, sha256: createHash('sha256').update(bytes).digest('hex') });
    let read: { layer: Layer; issues: SchemeIssue[] };
    try {
      read = readLayer(bytes.toString('utf8'), display);
    } catch (e) {
      if (!(e instanceof SchemeError)) throw e;
      issues.push(...e.issues.map((i) => throughBase(i, scheme)));
      broken = true;
      break;
    }
    issues.push(...read.issues.map((i) => throughBase(i, scheme)));
    layers.push(read.layer);
    chain.push(abs);
    shown.push(display);
    current = read.layer;
  }
  return { layers, issues, broken };
}

/**
 * Parses and validates scheme text (YAML, or JSON when the name ends in .json). `extends` is
 * followed (relative to `fileName`, inside `options.schemesDir`) and the merged result validated.
 * Throws `SchemeError` listing every problem with file, line:col and path; a problem in a base is
 * reported on the scheme file's `extends` line and names the base file and its line.
 */
export function parseScheme(text: string, fileName: string, options: ParseSchemeOptions = {}): Scheme {
  const file = fileName;
  const { layer: own, issues } = readLayer(text, file);
  let layers: Layer[] = [own];
  let data: Record<string, unknown> = own.data;
  if (own.data.extends !== undefined) {
    const resolved = resolveBases(own, options.schemesDir ?? path.dirname(file), options.basesRead ?? []);
    issues.push(...resolved.issues);
    if (resolved.broken) throw new SchemeError(sortIssues(issues));
    layers = resolved.layers;
    data = {};
    for (let i = layers.length - 1; i >= 0; i--) {
      const { extends: _ignored, ...rest } = layers[i].data;
      data = mergeSchemeData(data, rest);
    }
    data.extends = own.data.extends;
  }
  const at: IssueAt = (segs, message, preferKey = false) => {
    const owner = layers.length === 1 ? own : ownerOf(layers, segs);
    const issue = issueAt(owner.file, owner.doc, owner.lc, segs, message, preferKey);
    return owner === own ? issue : throughBase(issue, own);
  };
  let parsed = SchemeSchema.safeParse(data);
  if (!parsed.success) {
    issues.push(...zodIssues(parsed.error, at));
    // Unknown keys only (typos): drop them and go on, so one run reports the semantic problems too.
    const onlyUnknownKeys = parsed.error.issues.every((i) => i.code === 'unrecognized_keys');
    if (!onlyUnknownKeys) throw new SchemeError(sortIssues(issues));
    parsed = SchemeSchema.safeParse(withoutUnknownKeys(data, parsed.error));
    if (!parsed.success) throw new SchemeError(sortIssues(issues));
  }
  for (const s of checkSchemeSemantics(parsed.data)) issues.push(at(s.path, s.message));
  if (issues.length > 0) throw new SchemeError(sortIssues(issues));
  return parsed.data;
}

/** A copy of `data` without the keys zod reported as unrecognized. */
function withoutUnknownKeys(data: unknown, error: z.ZodError): unknown {
  const copy = structuredClone(data) as Record<string, unknown>;
  for (const issue of error.issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    let node: unknown = copy;
    for (const seg of issue.path)
      node = (node as Record<PropertyKey, unknown> | undefined)?.[seg as PropertyKey];
    if (node !== null && typeof node === 'object') {
      for (const key of issue.keys) delete (node as Record<string, unknown>)[key];
    }
  }
  return copy;
}

function sortIssues(issues: SchemeIssue[]): SchemeIssue[] {
  return [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/** Where V8's JSON.parse message points: `at position N`, else its quoted context snippet. */
function jsonErrorPosition(text: string, message: string): { line: number; col: number } | undefined {
  const at = /position (\d+)/.exec(message);
  if (at) return positionOf(text, Number(at[1]));
  const snippet = /"([\s\S]*)" is not valid JSON/.exec(message)?.[1].replace(/^\.\.\.|\.\.\.$/g, '');
  if (!snippet) return undefined;
  const start = text.indexOf(snippet);
  if (start < 0) return undefined;
  const token = /Unexpected token '(.)'/.exec(message)?.[1];
  const within = token ? snippet.indexOf(token) : -1;
  return positionOf(text, start + Math.max(0, within));
}

function positionOf(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
}

/** Reads and validates one scheme file (following `extends`, see `parseScheme`). */
export function loadSchemeFile(filePath: string, options: ParseSchemeOptions = {}): Scheme {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (e) {
    throw new SchemeError([
      { file: filePath, path: '(file)', message: `cannot read: ${(e as Error).message}` },
    ]);
  }
  return parseScheme(text, filePath, options);
}

function isRegularFile(dir: string, e: fs.Dirent): boolean {
  if (e.isFile()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return fs.statSync(path.join(dir, e.name)).isFile();
  } catch {
    return false;
  }
}

/** The scheme files of a directory (`*.yaml`, `*.yml`, `*.json`, not `*.schema.json`), sorted. */
export function listSchemeFiles(dir: string): string[] {
  return (
    fs
      .readdirSync(dir, { withFileTypes: true })
      // Kubernetes mounts ConfigMap keys as symlinks: follow them.
      .filter((e) => isRegularFile(dir, e) && SCHEME_FILE.test(e.name) && !NOT_A_SCHEME.test(e.name))
      .map((e) => path.join(dir, e.name))
      .sort()
  );
}

/** One scheme of a directory: its file, the scheme, and the base files it was merged from. */
export interface SchemeDirEntry {
  file: string;
  scheme: Scheme;
  bases: SchemeBaseRead[];
}

/**
 * Reads every scheme file at the top of `dir` (subfolders hold bases and are never read as
 * schemes); all problems of all files in one `SchemeError`; ids must be unique.
 */
export function readSchemesDir(dir: string): SchemeDirEntry[] {
  const issues: SchemeIssue[] = [];
  const entries: SchemeDirEntry[] = [];
  const ids = new Map<string, string>();
  for (const file of listSchemeFiles(dir)) {
    try {
      const bases: SchemeBaseRead[] = [];
      const scheme = loadSchemeFile(file, { schemesDir: dir, basesRead: bases });
      const other = ids.get(scheme.id);
      if (other) {
        const text = fs.readFileSync(file, 'utf8');
        const m = /^\s*"?id"?\s*:/m.exec(text);
        const pos = m ? positionOf(text, m.index + m[0].indexOf('id')) : undefined;
        issues.push({
          file,
          ...pos,
          path: 'id',
          segments: ['id'],
          message: `scheme id "${scheme.id}" is already used by ${other}`,
        });
      } else {
        ids.set(scheme.id, file);
        entries.push({ file, scheme, bases });
      }
    } catch (e) {
      if (e instanceof SchemeError) issues.push(...e.issues);
      else throw e;
    }
  }
  if (issues.length > 0) throw new SchemeError(issues);
  return entries;
}

/** Loads every scheme of a directory; all problems of all files in one `SchemeError`; ids must be unique. */
export function loadSchemesFromDir(dir: string): Scheme[] {
  return readSchemesDir(dir).map((e) => e.scheme);
}

/**
 * Where a scheme text that is not (yet) a file — an operator's draft, a preview request's copy — would
 * live: `<SCHEMES_DIR>/<id>.yaml`, so its `extends` resolves against the schemes folder as the saved
 * file's would. Every service validates SCHEMES_DIR at boot and it is in `process.env` by then (the
 * config loader copies `.env` values there); the default is the config's.
 */
export function draftSchemePath(schemeId: string, schemesDir = process.env.SCHEMES_DIR || 'schemes'): string {
  return path.resolve(schemesDir, `${schemeId}.yaml`);
}
