import { checkSchemeText } from '@libs/mapping';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatSchemeIssue, type SchemeIssue } from '../scheme.errors';
import { checkSchemeConnections, type ConnectionsOutline } from '../scheme-connections.util';
import { listSchemeFiles } from '../scheme-file.util';
import type { Scheme } from '../scheme.schema';
import type { CliIo } from './cli-io.util';

/**
 * What the idempotency key choice means for the loader (libs/loading/README.md): printed by
 * scheme:check so the choice is made knowingly.
 */
export function idempotencyNote(s: Scheme): string {
  const { field } = s.target.idempotencyKey;
  const lookups =
    s.target.lookupBeforeWrite === 'always'
      ? 'every BatchSave is preceded by a look-up of its keys (safe even if claim rows are lost)'
      : 'bills are looked up after any write of unknown outcome';
  if (field === 'FBillNo')
    return (
      `the idempotency key is FBillNo: ${lookups}. If this Kingdee account has a numbering rule (编码规则) that ` +
      `replaces FBillNo, bills could not be found again: the loader stops the scheme at the first replaced ` +
      `number. Then map the order number into a field Kingdee keeps (e.g. FDESCRIPTION: template '{{order_no}}') ` +
      `and set target.idempotencyKey.field to it. uniqueBillNo: ${s.target.uniqueBillNo}` +
      (s.target.uniqueBillNo === 'enforced'
        ? ' (a rewrite waits client + server execution timeouts; a late commit is then refused as a duplicate)'
        : ' (a rewrite waits the settle window; set enforced if the account refuses duplicate FBillNo)')
    );
  return (
    `the idempotency key is ${field}: ${lookups}. Kingdee must keep ${field} exactly as sent and it must be ` +
    `unique per order in this account; numbering rules on FBillNo do not matter.`
  );
}

export interface SchemeCheckOptions {
  /**
   * The deployment's connections (no secrets). Given: connection names are checked and schemes are
   * checked against each other (keys that can collide in one Kingdee account). Absent: shape only.
   */
  outline?: ConnectionsOutline;
  /** Where the outline came from, for the summary line (e.g. `config/connections.yaml`). */
  outlineSource?: string;
}

/**
 * `scheme:check <file|dir>...`: validates scheme files (syntax, shape, semantics, `extends`) and
 * compiles them with the mapping engine; then checks all of them together: ids unique and, with an
 * outline of the connections, connection names and idempotency keys that could collide. Prints
 * `file:line:col path: message` per problem. Returns the exit code: 0 all valid, 1 any problem.
 */
export function runSchemeCheck(
  paths: readonly string[],
  io: CliIo,
  options: SchemeCheckOptions = {},
): number {
  let failed = false;
  const report = (issues: readonly SchemeIssue[]) => {
    if (issues.length > 0) failed = true;
    for (const issue of issues) io.err(formatSchemeIssue(issue));
  };
  const summary = (file: string, s: Scheme, usesFormulas: boolean) => {
    const lines = s.mapping.entries.map((e) => `${e.path}×${Object.keys(e.fields).length}`).join(', ');
    io.out(
      `ok ${file}: ${s.id} (${s.enabled ? 'enabled' : 'disabled'}; ${s.target.formId} ${s.target.operation}; ` +
        `${Object.keys(s.mapping.header).length} header fields${lines ? `, ${lines}` : ''}; ` +
        `${s.preconditions.length} preconditions; ${usesFormulas ? 'uses formulas' : 'no formulas'})`,
    );
    io.out(`  note: ${idempotencyNote(s)}`);
  };
  /** Every valid scheme seen, once per file (a file named and also inside a named directory). */
  const checked = new Map<string, { file: string; scheme: Scheme; text: string; usesFormulas: boolean }>();
  const checkOne = (file: string, schemesDir?: string) => {
    const key = path.resolve(file);
    const seen = checked.get(key);
    if (seen) {
      summary(file, seen.scheme, seen.usesFormulas);
      return;
    }
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      report([{ file, path: '(file)', message: `cannot read: ${(e as Error).message}` }]);
      return;
    }
    const result = checkSchemeText(text, file, schemesDir ? { schemesDir } : {});
    if (result.scheme) {
      checked.set(key, { file, scheme: result.scheme, text, usesFormulas: result.usesFormulas });
      summary(file, result.scheme, result.usesFormulas);
    } else report(result.issues);
  };
  if (paths.length === 0) {
    io.err('scheme:check: give one or more scheme files or directories');
    return 1;
  }
  for (const p of paths) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch (e) {
      report([{ file: p, path: '(file)', message: `cannot read: ${(e as Error).message}` }]);
      continue;
    }
    if (!stat.isDirectory()) {
      checkOne(p);
      continue;
    }
    const files = listSchemeFiles(p);
    if (files.length === 0)
      report([{ file: p, path: '(dir)', message: 'no scheme files (*.yaml, *.yml, *.json)' }]);
    for (const f of files) checkOne(f, p);
  }

  // Across files: one id per scheme.
  const all = [...checked.values()];
  const byId = new Map<string, string>();
  for (const c of all) {
    const other = byId.get(c.scheme.id);
    if (other === undefined) {
      byId.set(c.scheme.id, c.file);
      continue;
    }
    const m = /^\s*"?id"?\s*:/m.exec(c.text);
    const line = m ? c.text.slice(0, m.index + m[0].indexOf('id')).split('\n').length : undefined;
    report([
      {
        file: c.file,
        ...(line !== undefined ? { line, col: 1 } : {}),
        path: 'id',
        segments: ['id'],
        message: `scheme id "${c.scheme.id}" is already used by ${other}`,
      },
    ]);
  }
  // Across schemes: connections and keys that could collide in one Kingdee account.
  if (options.outline) {
    const fileOf = new Map(all.map((c) => [c.scheme, c.file]));
    const issues = checkSchemeConnections(
      all.map((c) => c.scheme),
      options.outline,
      { fileOf: (s) => fileOf.get(s) },
    );
    report(issues);
    if (issues.length === 0 && all.length > 0)
      io.out(
        `ok connections: ${all.length} scheme(s) checked against ${options.outlineSource ?? 'the connections given'} ` +
          `(WDT: ${knownList(Object.keys(options.outline.wdt))}; Kingdee: ${knownList(Object.keys(options.outline.kingdee))})`,
      );
  }
  return failed ? 1 : 0;
}

function knownList(names: string[]): string {
  return names.length ? [...names].sort().join(', ') : 'none';
}

/** Reads the deployment's connections without secrets; `readConnectionsOutline` of `@libs/connections` fits. */
export type ConnectionsOutlineReader = (opts: {
  env: Record<string, string | undefined>;
  file?: string;
}) => ConnectionsOutline;

export interface SchemeCheckCliDeps {
  env: Record<string, string | undefined>;
  /**
   * The outline reader (the seam to `@libs/connections`). Absent: shape only, and `--connections`
   * is refused rather than ignored.
   */
  readOutline?: ConnectionsOutlineReader;
}

/**
 * The `scheme:check` command line: `--connections <file>` (default CONNECTIONS_FILE, then the
 * reader's own default) gives the outline the schemes are checked against.
 */
export function runSchemeCheckCli(
  paths: readonly string[],
  opts: { connections?: string },
  io: CliIo,
  deps: SchemeCheckCliDeps,
): number {
  if (!deps.readOutline) {
    if (opts.connections !== undefined) {
      io.err(
        `scheme:check: --connections ${opts.connections}: this build cannot read connections files; ` +
          `run without --connections to check the schemes' shape only`,
      );
      return 1;
    }
    return runSchemeCheck(paths, io);
  }
  const file = opts.connections ?? (deps.env.CONNECTIONS_FILE || undefined);
  let outline: ConnectionsOutline;
  try {
    outline = deps.readOutline({ env: deps.env, ...(file !== undefined ? { file } : {}) });
  } catch (e) {
    io.err(`scheme:check: connections: ${(e as Error).message}`);
    return 1;
  }
  if (file === undefined && Object.keys(outline.wdt).length + Object.keys(outline.kingdee).length === 0) {
    // Nothing configured here (a laptop, CI on the scheme files alone): the names cannot be checked.
    io.out(
      'note: no connections configured (CONNECTIONS_FILE, config/connections.yaml, WDT_SID, KINGDEE_SERVER_URL): connection names not checked',
    );
    return runSchemeCheck(paths, io);
  }
  return runSchemeCheck(paths, io, {
    outline,
    outlineSource: file ?? 'the default connections (config/connections.yaml, environment)',
  });
}
