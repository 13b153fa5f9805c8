import { parseShanghai } from '@libs/common';
import { CronExpressionParser } from 'cron-parser';
import { parseDuration } from './duration.util';
import { ConversionError, convertValue } from './field-types.util';
import { checkFormula } from './formula.util';
import { formatSchemePath, type SchemePath } from './scheme.errors';
import { PRECONDITION_OPERATORS, type EntrySpec, type FieldSpec, type Scheme } from './scheme.schema';
import { parseTemplate, TemplateSyntaxError, type ParsedTemplate } from './template.util';

/** A problem found beyond shape: `path` points into the scheme document. */
export interface SemanticIssue {
  path: SchemePath;
  message: string;
}

/** Variables the extractor fills in `source.params` templates. */
export const SOURCE_PARAM_VARIABLES: ReadonlySet<string> = new Set([
  'PAGINATION_PAGE_SIZE',
  'PAGINATION_PAGE_NO',
  'LAST_SYNC_TIME',
  'CURRENT_TIME',
]);

/** Params the WDT clients set themselves (signature, gateway and paging). */
const RESERVED_SOURCE_PARAMS: ReadonlySet<string> = new Set([
  'sid',
  'appkey',
  'app_key',
  'target_app_key',
  'timestamp',
  'sign',
  'sign_method',
  'method',
  'format',
  'v',
  'page_no',
]);

const MAX_WDT_WINDOW_MS = 30 * 86_400_000;
const QIMEN_MAX_PAGE_SIZE = 30;
/** Page size when the scheme sets none: native 100 (the largest WDT allows elsewhere), Qimen 30. */
export const DEFAULT_PAGE_SIZE = { native: 100, qimen: 30 } as const;

/**
 * The page size a scheme reads with: `source.pageSize`, else by gateway — the scheme's, else the
 * deployment's (`gateway`), else native.
 */
export function pageSizeOf(
  scheme: { source: { pageSize?: number; gateway?: 'native' | 'qimen' } },
  gateway?: 'native' | 'qimen',
): number {
  return scheme.source.pageSize ?? DEFAULT_PAGE_SIZE[scheme.source.gateway ?? gateway ?? 'native'];
}

type FieldScope = { kind: 'header' } | { kind: 'line'; entry: EntrySpec };

/** Cron with 5 fields (minute hour day month weekday) or 6 (seconds first); undefined when fine. */
export function cronProblem(expression: string, timezone?: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return `cron expression "${expression}" must have 5 fields (minute hour day month weekday) or 6 (seconds first)`;
  }
  try {
    CronExpressionParser.parse(expression, timezone ? { tz: timezone } : {});
    return undefined;
  } catch (e) {
    return `cron expression "${expression}" does not parse: ${(e as Error).message}`;
  }
}

function timezoneProblem(tz: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `unknown time zone "${tz}"`;
  }
}

/** Target path of a field: its `target` override or its key. */
export function fieldTargetPath(name: string, spec: FieldSpec): string[] {
  return (spec.target ?? name).split('.');
}

/** Names an entry's array may arrive under: `source` first, then its aliases. */
export function entrySourceNames(entry: EntrySpec): string[] {
  return [entry.source, ...(entry.sourceAliases ?? [])];
}

/**
 * Everything `SchemeSchema` (shape) cannot say: exactly one value source per field, templates and
 * formulas compile, value maps exist, constants convert, target paths do not collide, cron and time
 * zones parse, and the sections agree with each other. Returns every issue found.
 */
export function checkSchemeSemantics(scheme: Scheme): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  const add = (path: SchemePath, message: string) => issues.push({ path, message });

  // --- entries: source names
  const lineSources = new Map<string, number>();
  scheme.mapping.entries.forEach((entry, i) => {
    for (const name of entrySourceNames(entry)) {
      const other = lineSources.get(name);
      if (other !== undefined) {
        add(
          ['mapping', 'entries', i, 'source'],
          `line array "${name}" is already used by mapping.entries[${other}]`,
        );
      } else {
        lineSources.set(name, i);
      }
    }
  });

  const parseTpl = (text: string, path: SchemePath): ParsedTemplate | undefined => {
    try {
      return parseTemplate(text);
    } catch (e) {
      if (e instanceof TemplateSyntaxError) {
        add(path, `template ${JSON.stringify(text)}: ${e.message}`);
        return undefined;
      }
      throw e;
    }
  };

  /** Checks template placeholders for a record-level (header) or line-level scope. */
  const checkTemplateScope = (tpl: ParsedTemplate, path: SchemePath, scope: FieldScope) => {
    for (const part of tpl.parts) {
      if (part.kind !== 'var') continue;
      const head = part.path[0];
      const owner = lineSources.get(head);
      if (owner === undefined) continue;
      const own = scope.kind === 'line' && entrySourceNames(scope.entry).includes(head);
      if (!own) {
        add(
          path,
          scope.kind === 'line'
            ? `{{${part.raw}}} reads lines of another entry (mapping.entries[${owner}]); only this entry's lines are in scope`
            : `{{${part.raw}}} reads goods lines, which a record-level value cannot; use a formula such as $sum(${head}.goods_count) or ${head}[0].x`,
        );
      } else if (part.path.length < 2) {
        add(path, `{{${part.raw}}} is the whole line array; name a line field like {{${head}.spec_no}}`);
      }
    }
  };

  const checkField = (spec: FieldSpec, path: SchemePath, scope: FieldScope) => {
    const sources = (['template', 'const', 'formula'] as const).filter((k) => spec[k] !== undefined);
    if (sources.length !== 1) {
      add(
        path,
        sources.length === 0
          ? 'a field needs exactly one of template, const, formula (none given)'
          : `a field needs exactly one of template, const, formula (found ${sources.join(', ')})`,
      );
    }
    if (spec.template !== undefined) {
      const tpl = parseTpl(spec.template, [...path, 'template']);
      if (tpl) checkTemplateScope(tpl, [...path, 'template'], scope);
    }
    if (spec.formula !== undefined) {
      for (const p of checkFormula(spec.formula, scope.kind === 'line')) add([...path, 'formula'], p.message);
    }
    if (spec.valueMap !== undefined && !(spec.valueMap in scheme.valueMaps)) {
      const known = Object.keys(scheme.valueMaps);
      add(
        [...path, 'valueMap'],
        `value map "${spec.valueMap}" is not defined under valueMaps (defined: ${known.length ? known.join(', ') : 'none'})`,
      );
    }
    if (spec.const !== undefined) {
      if (spec.valueMap !== undefined) add([...path, 'valueMap'], 'a const field cannot use a value map');
      if (spec.const === '') {
        add([...path, 'const'], 'const is empty; leave the field out instead');
      } else {
        try {
          if (convertValue(spec.type, spec.const, spec) === undefined) {
            add([...path, 'const'], `const ${JSON.stringify(spec.const)} is an empty ${spec.type}`);
          }
        } catch (e) {
          if (!(e instanceof ConversionError)) throw e;
          add([...path, 'const'], `const ${JSON.stringify(spec.const)} ${e.problem} (type ${spec.type})`);
        }
      }
    }
    if (spec.positive !== undefined && spec.type !== 'decimal' && spec.type !== 'integer') {
      add([...path, 'positive'], `positive applies to decimal and integer fields, not ${spec.type}`);
    }
    if (spec.maxLength !== undefined && spec.type !== 'string' && spec.type !== 'ref') {
      add([...path, 'maxLength'], `maxLength applies to string and ref fields, not ${spec.type}`);
    }
  };

  /** Target paths must not repeat, and a leaf cannot also be a parent. */
  const checkTargets = (targets: Array<{ segments: string[]; path: SchemePath }>) => {
    const seen = new Map<string, SchemePath>();
    for (const t of targets) {
      const key = t.segments.join('.');
      const clash = seen.get(key);
      if (clash) {
        add(t.path, `target ${key} is already written by ${formatSchemePath(clash)}`);
        continue;
      }
      for (const [other, otherPath] of seen) {
        if (key.startsWith(`${other}.`) || other.startsWith(`${key}.`)) {
          add(t.path, `target ${key} overlaps ${other} (written by ${formatSchemePath(otherPath)})`);
        }
      }
      seen.set(key, t.path);
    }
  };

  // --- header fields
  const headerTargets: Array<{ segments: string[]; path: SchemePath }> = [];
  for (const [name, spec] of Object.entries(scheme.mapping.header)) {
    const path = ['mapping', 'header', name];
    checkField(spec, path, { kind: 'header' });
    headerTargets.push({ segments: fieldTargetPath(name, spec), path });
  }
  // --- entries
  scheme.mapping.entries.forEach((entry, i) => {
    headerTargets.push({ segments: entry.path.split('.'), path: ['mapping', 'entries', i, 'path'] });
    const lineTargets: Array<{ segments: string[]; path: SchemePath }> = [];
    for (const [name, spec] of Object.entries(entry.fields)) {
      const path = ['mapping', 'entries', i, 'fields', name];
      checkField(spec, path, { kind: 'line', entry });
      lineTargets.push({ segments: fieldTargetPath(name, spec), path });
    }
    if (Object.keys(entry.fields).length === 0)
      add(['mapping', 'entries', i, 'fields'], 'an entry needs fields');
    checkTargets(lineTargets);
  });
  checkTargets(headerTargets);

  // --- value maps
  for (const [name, vm] of Object.entries(scheme.valueMaps)) {
    const path = ['valueMaps', name];
    if (vm.onMissing === 'default' && vm.default === undefined) {
      add([...path, 'default'], 'onMissing: default needs a default value');
    }
    if (vm.onMissing !== 'default' && vm.default !== undefined) {
      add(
        [...path, 'default'],
        `default is only used with onMissing: default (onMissing is ${vm.onMissing})`,
      );
    }
    for (const [k, v] of Object.entries(vm.entries)) {
      if (k === '') add([...path, 'entries'], 'a value map key must not be empty');
      if (v === '') add([...path, 'entries', k], 'a value map value must not be empty');
    }
  }

  // --- target / idempotency key
  const key = scheme.target.idempotencyKey;
  const keyField = Object.entries(scheme.mapping.header).find(
    ([name, spec]) => fieldTargetPath(name, spec).join('.') === key.field,
  );
  if (!keyField) {
    add(['target', 'idempotencyKey', 'field'], `no header field writes ${key.field}`);
  } else if (keyField[1].const !== undefined) {
    add(['target', 'idempotencyKey', 'field'], `${key.field} is a constant; the key must differ per record`);
  }
  const keyTpl = parseTpl(key.source, ['target', 'idempotencyKey', 'source']);
  if (keyTpl) {
    if (!keyTpl.parts.some((p) => p.kind === 'var')) {
      add(
        ['target', 'idempotencyKey', 'source'],
        'the key template needs a record placeholder such as {{order_no}} ({{$sid}} alone is the same for every record)',
      );
    }
    checkTemplateScope(keyTpl, ['target', 'idempotencyKey', 'source'], { kind: 'header' });
  }
  const opts = scheme.target.requestOptions;
  if (scheme.target.submitMode === 'separate' && opts.IsAutoSubmitAndAudit === true) {
    add(
      ['target', 'requestOptions', 'IsAutoSubmitAndAudit'],
      'submitMode: separate runs Submit and Audit itself; IsAutoSubmitAndAudit must not be true',
    );
  }
  if (scheme.target.submitMode === 'auto' && opts.IsAutoSubmitAndAudit === false) {
    add(
      ['target', 'requestOptions', 'IsAutoSubmitAndAudit'],
      'submitMode: auto relies on IsAutoSubmitAndAudit; it must not be false',
    );
  }
  if (scheme.target.operation === 'Save' && scheme.target.batchSize !== 1) {
    add(['target', 'batchSize'], 'operation Save sends one model per call; batchSize must be 1');
  }

  // --- preconditions
  const names = new Set<string>();
  scheme.preconditions.forEach((pc, i) => {
    const path = ['preconditions', i];
    if (names.has(pc.name)) add([...path, 'name'], `precondition name "${pc.name}" is used twice`);
    names.add(pc.name);
    const ops = PRECONDITION_OPERATORS.filter((op) => pc[op] !== undefined);
    if (pc.formula !== undefined) {
      if (pc.field !== undefined || ops.length > 0) {
        add(path, 'a precondition is either a formula or a field with one operator, not both');
      }
      for (const p of checkFormula(pc.formula, false)) add([...path, 'formula'], p.message);
    } else if (pc.field === undefined) {
      add(
        path,
        `a precondition needs a formula, or a field with one of ${PRECONDITION_OPERATORS.join(', ')}`,
      );
    } else {
      if (ops.length !== 1) {
        add(
          path,
          `a field precondition needs exactly one operator of ${PRECONDITION_OPERATORS.join(', ')} (found ${ops.length ? ops.join(', ') : 'none'})`,
        );
      }
      const head = pc.field.split('.')[0];
      if (lineSources.has(head) && pc.field.includes('.')) {
        add([...path, 'field'], `${pc.field} reads inside goods lines; use a formula for line conditions`);
      }
    }
    if (pc.reason !== undefined) {
      const tpl = parseTpl(pc.reason, [...path, 'reason']);
      if (tpl) checkTemplateScope(tpl, [...path, 'reason'], { kind: 'header' });
    }
  });

  // --- schedule
  const tzProblem = timezoneProblem(scheme.schedule.timezone);
  if (tzProblem) add(['schedule', 'timezone'], tzProblem);
  const tz = tzProblem ? undefined : scheme.schedule.timezone;
  if (scheme.schedule.transferTime !== undefined) {
    const p = cronProblem(scheme.schedule.transferTime, tz);
    if (p) add(['schedule', 'transferTime'], p);
  }
  checkDuration(['schedule', 'pollInterval'], scheme.schedule.pollInterval, add, 1);
  checkDuration(['retry', 'initialDelay'], scheme.retry.initialDelay, add, 0);
  checkDuration(['retry', 'maxDelay'], scheme.retry.maxDelay, add, 0);
  const ri = parseDuration(scheme.retry.initialDelay);
  const rm = parseDuration(scheme.retry.maxDelay);
  if (ri !== undefined && rm !== undefined && ri > rm) {
    add(
      ['retry', 'maxDelay'],
      `maxDelay ${scheme.retry.maxDelay} is shorter than initialDelay ${scheme.retry.initialDelay}`,
    );
  }

  // --- source
  const src = scheme.source;
  for (const [name, value] of Object.entries(src.params)) {
    const path = ['source', 'params', name];
    if (RESERVED_SOURCE_PARAMS.has(name)) add(path, `${name} is set by the WDT client itself; remove it`);
    if (name in src.filters) add(path, `${name} is also given under source.filters; keep one`);
    const tpl = parseTpl(value, path);
    if (!tpl) continue;
    for (const part of tpl.parts) {
      if (
        part.kind === 'sid' ||
        (part.kind === 'var' && (part.path.length !== 1 || !SOURCE_PARAM_VARIABLES.has(part.path[0])))
      ) {
        add(
          path,
          `{{${part.raw}}} is not a source variable (known: ${[...SOURCE_PARAM_VARIABLES].join(', ')})`,
        );
      }
    }
  }
  if (src.gateway === 'qimen' && src.pageSize !== undefined && src.pageSize > QIMEN_MAX_PAGE_SIZE) {
    add(
      ['source', 'pageSize'],
      `the Qimen gateway allows page_size 1–${QIMEN_MAX_PAGE_SIZE}, got ${src.pageSize}`,
    );
  }
  const cur = src.cursor;
  checkDuration(['source', 'cursor', 'lookback'], cur.lookback, add, 0);
  checkDuration(['source', 'cursor', 'overlap'], cur.overlap, add, 0);
  checkDuration(['source', 'cursor', 'lookbackInterval'], cur.lookbackInterval, add, 1000);
  checkDuration(['source', 'cursor', 'safetyLag'], cur.safetyLag, add, 0);
  const mw = checkDuration(['source', 'cursor', 'maxWindow'], cur.maxWindow, add, 1000);
  if (mw !== undefined && mw > MAX_WDT_WINDOW_MS) {
    add(['source', 'cursor', 'maxWindow'], `WDT accepts windows of at most 30 days, got ${cur.maxWindow}`);
  }
  if (cur.initial !== undefined && parseShanghai(cur.initial) === undefined) {
    add(
      ['source', 'cursor', 'initial'],
      `"${cur.initial}" is not a Shanghai wall-clock time like "2026-11-01 00:00:00"`,
    );
  }
  const status = src.filters.status;
  if (status !== undefined && cur.axis !== 'auto') {
    const wdtAxis = Number(status) >= 95 ? 'consign_time' : 'modified';
    if (cur.axis !== wdtAxis) {
      add(
        ['source', 'cursor', 'axis'],
        `with status ${status} WDT filters the window on ${wdtAxis}, not ${cur.axis} (use auto or ${wdtAxis})`,
      );
    }
  }
  if (src.reconciliation) {
    checkDuration(['source', 'reconciliation', 'period'], src.reconciliation.period, add, 1000);
    const p = cronProblem(src.reconciliation.cron, tz);
    if (p) add(['source', 'reconciliation', 'cron'], p);
  }
  const reconcileCron = cronProblem(scheme.reconcile.cron, tz);
  if (reconcileCron) add(['reconcile', 'cron'], reconcileCron);
  return issues;
}

function checkDuration(
  path: SchemePath,
  text: string,
  add: (path: SchemePath, message: string) => void,
  minMs: number,
): number | undefined {
  const ms = parseDuration(text);
  if (ms === undefined) add(path, `"${text}" is not a duration like 5s, 10m, 3d`);
  else if (ms < minMs) add(path, `${text} is too short`);
  return ms;
}
