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

function zodIssues(file: string, doc: YamlDoc, lc: LineCounter, error: z.ZodError): SchemeIssue[] {
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
        out.push(issueAt(file, doc, lc, [...segs, key], `unknown key "${key}"${hint}`, true));
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
    out.push(issueAt(file, doc, lc, segs, message, issue.code === 'invalid_key'));
  }
  return out;
}

/**
 * Parses and validates scheme text (YAML, or JSON when the name ends in .json). Throws
 * `SchemeError` listing every problem with file, line:col and path.
 */
export function parseScheme(text: string, fileName: string): Scheme {
  const file = fileName;
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
  if (/\.json$/i.test(fileName)) {
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
  let parsed = SchemeSchema.safeParse(data);
  if (!parsed.success) {
    issues.push(...zodIssues(file, doc, lc, parsed.error));
    // Unknown keys only (typos): drop them and go on, so one run reports the semantic problems too.
    const onlyUnknownKeys = parsed.error.issues.every((i) => i.code === 'unrecognized_keys');
    if (!onlyUnknownKeys) throw new SchemeError(sortIssues(issues));
    parsed = SchemeSchema.safeParse(withoutUnknownKeys(data, parsed.error));
    if (!parsed.success) throw new SchemeError(sortIssues(issues));
  }
  for (const s of checkSchemeSemantics(parsed.data)) issues.push(issueAt(file, doc, lc, s.path, s.message));
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

/** Reads and validates one scheme file. */
export function loadSchemeFile(filePath: string): Scheme {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (e) {
    throw new SchemeError([
      { file: filePath, path: '(file)', message: `cannot read: ${(e as Error).message}` },
    ]);
  }
  return parseScheme(text, filePath);
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

/** Loads every scheme of a directory; all problems of all files in one `SchemeError`; ids must be unique. */
export function loadSchemesFromDir(dir: string): Scheme[] {
  const issues: SchemeIssue[] = [];
  const schemes: Scheme[] = [];
  const ids = new Map<string, string>();
  for (const file of listSchemeFiles(dir)) {
    try {
      const scheme = loadSchemeFile(file);
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
        schemes.push(scheme);
      }
    } catch (e) {
      if (e instanceof SchemeError) issues.push(...e.issues);
      else throw e;
    }
  }
  if (issues.length > 0) throw new SchemeError(issues);
  return schemes;
}
