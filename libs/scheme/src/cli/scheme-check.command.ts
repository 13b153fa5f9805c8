import { checkSchemeText } from '@libs/mapping';
import * as fs from 'node:fs';
import { SchemeError, formatSchemeIssue, type SchemeIssue } from '../scheme.errors';
import { listSchemeFiles, loadSchemesFromDir } from '../scheme-file.util';
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

/**
 * `scheme:check <file|dir>...`: validates scheme files (syntax, shape, semantics) and compiles them
 * with the mapping engine. Prints `file:line:col path: message` per problem. Returns the exit code:
 * 0 all valid, 1 any problem.
 */
export function runSchemeCheck(paths: readonly string[], io: CliIo): number {
  let failed = false;
  const report = (issues: readonly SchemeIssue[]) => {
    failed = true;
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
  const checkOne = (file: string) => {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      report([{ file, path: '(file)', message: `cannot read: ${(e as Error).message}` }]);
      return;
    }
    const checked = checkSchemeText(text, file);
    if (checked.scheme) summary(file, checked.scheme, checked.usesFormulas);
    else report(checked.issues);
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
    for (const f of files) checkOne(f);
    if (!failed) {
      try {
        loadSchemesFromDir(p); // duplicate ids across files
      } catch (e) {
        if (e instanceof SchemeError) report(e.issues);
        else throw e;
      }
    }
  }
  return failed ? 1 : 0;
}
