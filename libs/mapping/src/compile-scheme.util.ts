import {
  checkSchemeSemantics,
  checkText,
  ConversionError,
  convertValue,
  DEFAULT_MAX_TEXT_LENGTH,
  describeJsonataError,
  entrySourceNames,
  fieldTargetPath,
  formatSchemePath,
  isEmptyValue,
  parseTemplate,
  SchemeError,
  toText,
  type ConvertedValue,
  type EntrySpec,
  type FieldSpec,
  type FieldType,
  type ParsedTemplate,
  type Precondition,
  type Scheme,
} from '@libs/scheme';
import type jsonata from 'jsonata';
import { compileFormula, DEFAULT_FORMULA_LIMITS, type FormulaLimits } from './formula-functions.util';
import { MappingError, type MappingErrorCode } from './mapping.errors';
import { compilePathGetter, isRecordObject, ownFirst, previewValue, type Rec } from './record-access.util';

/**
 * The mapping engine. `compileScheme` turns a validated scheme into closures once; `map` then runs
 * per record:
 *   1. shape: the record is an object, every entry's line array is present, an array, of objects
 *      → else `MappingError('malformed_record')`;
 *   2. key: the idempotency key renders from string values (numbers could have lost digits);
 *   3. preconditions, in order: the first failing one → `{ outcome: 'skipped', reason, precondition }`;
 *   4. fields, header first then entries → the model; any problem → `MappingError` (dead letter).
 * Plain templates compile to own-property reads; JSONata is only touched by `formula` fields and
 * formula preconditions. JSONata 2 is asynchronous, so `map` returns a promise; schemes without
 * formulas also offer `mapSync` (same result, no promise).
 */

export type MapResult =
  | { outcome: 'document'; billKey: string; model: Record<string, unknown> }
  | { outcome: 'skipped'; billKey: string; reason: string; precondition: string };

/**
 * What one evaluation knows besides the record: `sid`, the sid of the record's source (WDT)
 * connection, read by `{{$sid}}` in templates and `$sid` in formulas. Without it `{{$sid}}` fails
 * the field that uses it.
 */
export interface MappingContext {
  sid?: string;
}

export interface CompiledMapping {
  readonly scheme: Scheme;
  /** True when some field or precondition is a JSONata formula (then only `map` is available). */
  readonly usesFormulas: boolean;
  map(record: unknown, context?: MappingContext): Promise<MapResult>;
  /** Synchronous `map` for schemes without formulas; throws if `usesFormulas`. */
  mapSync(record: unknown, context?: MappingContext): MapResult;
}

export interface CompileOptions {
  formulaLimits?: Partial<FormulaLimits>;
}

type Converter = (v: unknown) => unknown;

interface FieldPlan {
  /** Target segments, relative to the model (header) or to the line object (entries). */
  readonly segments: readonly string[];
  readonly targetText: string;
  readonly required: boolean;
  readonly convert: Converter;
  readonly type: FieldType;
  readonly valueMap?: CompiledValueMap;
  /** Record path read, for messages; `[]` marks the line index position for line paths. */
  readonly sourceText: string;
  readonly kind: 'const' | 'template' | 'formula';
  /** const: makes the converted output (base-data objects are rebuilt per record). */
  readonly constValue?: () => unknown;
  /** template: reads the raw value. */
  readonly read?: (record: Rec, line: Rec | undefined, lineIndex: number, sid: string | undefined) => unknown;
  /** formula: index into the scope's formula results. */
  readonly formulaIndex?: number;
}

interface CompiledValueMap {
  readonly name: string;
  readonly entries: ReadonlyMap<string, ConvertedValue>;
  readonly onMissing: 'fail' | 'passthrough' | 'default';
  readonly fallback?: ConvertedValue;
}

interface EntryPlan {
  readonly segments: readonly string[];
  readonly path: string;
  readonly names: readonly string[];
  readonly fields: readonly FieldPlan[];
  readonly formulas: readonly CompiledFormula[];
}

interface CompiledFormula {
  readonly expr: jsonata.Expression;
  readonly field: string;
}

type PreconditionPlan = {
  readonly name: string;
  readonly reason: (record: Rec, sid: string | undefined) => string;
} & ({ readonly test: (record: Rec) => boolean } | { readonly formula: CompiledFormula });

const hasOwn = Object.hasOwn;

/** A template part's read: the record, the current line (entries), the source sid. */
type PartGetter = (record: Rec, line: Rec | undefined, sid: string | undefined) => unknown;

/** `{{$sid}}`: the evaluation's sid, or a `missing_required` error the caller labels with its field. */
const readSid: PartGetter = (_r, _line, sid) => {
  if (sid === undefined) throw missingSid(UNLABELLED);
  return sid;
};

function missingSid(field: string): MappingError {
  return new MappingError(
    'missing_required',
    field,
    "{{$sid}} needs the sid of the record's source connection, which this evaluation was not given",
    '$sid',
  );
}
/** Field name placeholder of errors raised below the field loop; `relabel` sets the real one. */
const UNLABELLED = '';

class Compiler {
  readonly lineNames = new Map<string, readonly string[]>();
  readonly refKey: string;
  readonly valueMaps = new Map<string, CompiledValueMap>();

  constructor(
    readonly scheme: Scheme,
    readonly limits: FormulaLimits,
  ) {
    this.refKey = scheme.target.refKey;
    for (const e of scheme.mapping.entries) {
      const names = entrySourceNames(e);
      for (const n of names) this.lineNames.set(n, names);
    }
    for (const [name, vm] of Object.entries(scheme.valueMaps)) {
      this.valueMaps.set(name, {
        name,
        entries: new Map(Object.entries(vm.entries)),
        onMissing: vm.onMissing,
        fallback: vm.default,
      });
    }
  }

  /** Record-level path read; a first segment naming a line array also finds its aliases. */
  recordGetter(segments: readonly string[]): (record: Rec) => unknown {
    const aliases = this.lineNames.get(segments[0]);
    if (!aliases || aliases.length === 1) return compilePathGetter(segments);
    const rest = segments.slice(1);
    const restGet = rest.length ? compilePathGetter(rest) : undefined;
    return (r) => {
      const head = ownFirst(r, aliases);
      if (!restGet) return head;
      return isRecordObject(head) ? restGet(head) : undefined;
    };
  }

  converter(spec: FieldSpec): Converter {
    const maxLength = spec.maxLength ?? DEFAULT_MAX_TEXT_LENGTH;
    const positive = spec.positive ?? false;
    // Local bindings: the compiled CommonJS re-exports are getters, not worth a call per value.
    const text = toText;
    const convert = convertValue;
    if (spec.type === 'ref') {
      const key = this.refKey;
      if (key === 'FNumber') return (v) => ({ FNumber: text(v, maxLength) });
      return (v) => ({ [key]: text(v, maxLength) });
    }
    if (spec.type === 'string') return (v) => text(v, maxLength);
    const type = spec.type;
    const opts = { maxLength, positive };
    return (v) => convert(type, v, opts);
  }

  /** A template read: single placeholder → raw value; mixed → text, or undefined if any part is empty. */
  templateReader(
    tpl: ParsedTemplate,
    entry: EntrySpec | undefined,
  ): { read: NonNullable<FieldPlan['read']>; sourceText: string } {
    const own = entry ? new Set(entrySourceNames(entry)) : undefined;
    const parts = tpl.parts.map((p): { text: string } | { get: PartGetter; source: string } => {
      if (p.kind === 'text') return { text: p.text };
      if (p.kind === 'sid') return { get: readSid, source: '$sid' };
      if (own?.has(p.path[0])) {
        const get = compilePathGetter(p.path.slice(1));
        const rest = p.path.slice(1).join('.');
        return {
          get: (_r, line) => (line ? get(line) : undefined),
          source: `${entry!.source}[].${rest}`,
        };
      }
      const get = this.recordGetter(p.path);
      return { get: (r) => get(r), source: p.path.join('.') };
    });
    const sourceText = parts
      .map((p) => ('source' in p ? p.source : ''))
      .filter(Boolean)
      .join(', ');
    if (tpl.single) {
      const get = (parts[0] as { get: PartGetter }).get;
      return { read: (r, line, _i, sid) => get(r, line, sid), sourceText };
    }
    return {
      sourceText,
      read: (r, line, lineIndex, sid) => {
        let out = '';
        for (const p of parts) {
          if ('text' in p) {
            out += p.text;
            continue;
          }
          const v = p.get(r, line, sid);
          if (isEmptyValue(v)) return undefined;
          try {
            out += toText(v);
          } catch (e) {
            throw conversionToMapping(e, UNLABELLED, lineSource(p.source, lineIndex), v);
          }
        }
        return out;
      },
    };
  }

  fieldPlan(
    name: string,
    spec: FieldSpec,
    entry: EntrySpec | undefined,
    formulas: CompiledFormula[],
    fieldText: string,
  ): FieldPlan {
    const segments = fieldTargetPath(name, spec);
    const targetText = segments.join('.');
    const base = {
      segments,
      targetText,
      required: spec.required,
      convert: this.converter(spec),
      type: spec.type,
      valueMap: spec.valueMap !== undefined ? this.valueMaps.get(spec.valueMap) : undefined,
    };
    if (spec.const !== undefined) {
      // Validated by checkSchemeSemantics; converted once here.
      const value = base.convert(spec.const);
      let make: () => unknown = () => value;
      if (spec.type === 'ref') {
        const text = (value as Record<string, string>)[this.refKey];
        make = this.refKey === 'FNumber' ? () => ({ FNumber: text }) : () => ({ [this.refKey]: text });
      }
      return { ...base, kind: 'const', constValue: make, sourceText: 'const' };
    }
    if (spec.template !== undefined) {
      const { read, sourceText } = this.templateReader(parseTemplate(spec.template), entry);
      return { ...base, kind: 'template', read, sourceText };
    }
    const index = formulas.length;
    formulas.push({ expr: compileFormula(spec.formula as string, this.limits), field: fieldText });
    return { ...base, kind: 'formula', formulaIndex: index, sourceText: 'formula' };
  }

  precondition(pc: Precondition, index: number): PreconditionPlan {
    const reasonText = pc.reason ?? `precondition ${pc.name} is not met`;
    const tpl = parseTemplate(reasonText);
    const readers = tpl.parts.map((p): string | ((r: Rec, sid: string | undefined) => unknown) => {
      if (p.kind === 'text') return p.text;
      if (p.kind === 'sid') return (_r, sid) => sid ?? '(no sid)';
      const get = this.recordGetter(p.path);
      return (r) => get(r);
    });
    const reason = (r: Rec, sid: string | undefined) =>
      readers.map((x) => (typeof x === 'string' ? x : reasonValue(x(r, sid)))).join('');
    if (pc.formula !== undefined) {
      return {
        name: pc.name,
        reason,
        formula: {
          expr: compileFormula(pc.formula, this.limits),
          field: `preconditions[${index}] (${pc.name})`,
        },
      };
    }
    const get = this.recordGetter((pc.field as string).split('.'));
    const scalarText = (v: unknown): string | undefined =>
      typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
    let test: (r: Rec) => boolean;
    if (pc.in !== undefined) {
      const set = new Set(pc.in.map(String));
      test = (r) => {
        const s = scalarText(get(r));
        return s !== undefined && set.has(s);
      };
    } else if (pc.notIn !== undefined) {
      const set = new Set(pc.notIn.map(String));
      test = (r) => {
        const s = scalarText(get(r));
        return s === undefined || !set.has(s);
      };
    } else if (pc.equals !== undefined) {
      const want = String(pc.equals);
      test = (r) => scalarText(get(r)) === want;
    } else if (pc.notEquals !== undefined) {
      const want = String(pc.notEquals);
      test = (r) => scalarText(get(r)) !== want;
    } else if (pc.exists !== undefined) {
      const want = pc.exists;
      test = (r) => {
        const v = get(r);
        return (v !== undefined && v !== null) === want;
      };
    } else if (pc.nonEmpty !== undefined) {
      const want = pc.nonEmpty;
      test = (r) => {
        const v = get(r);
        const empty = isEmptyValue(v) || (Array.isArray(v) && v.length === 0);
        return !empty === want;
      };
    } else {
      const min = pc.minItems as number;
      test = (r) => {
        const v = get(r);
        return Array.isArray(v) && v.length >= min;
      };
    }
    return { name: pc.name, reason, test };
  }
}

function reasonValue(v: unknown): string {
  if (typeof v === 'string') return v.length > 100 ? `${v.slice(0, 100)}…` : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === undefined || v === null) return '';
  return Array.isArray(v) ? `[${v.length} items]` : '[object]';
}

function lineSource(source: string, lineIndex: number): string {
  return source.replace('[]', `[${lineIndex}]`);
}

function conversionToMapping(e: unknown, field: string, source: string, value: unknown): unknown {
  if (!(e instanceof ConversionError)) return e;
  const where = source ? `${source} ` : '';
  // Non-scalars: the problem already names the type ("is an object, expected text").
  const shown = value !== null && typeof value === 'object' ? '' : `${previewValue(value, source)} `;
  return new MappingError(
    e.code as MappingErrorCode,
    field,
    `${where}${shown}${e.problem}`,
    source || undefined,
  );
}

function setPath(target: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let cur = target;
  for (let i = 0; i < segments.length - 1; i++) {
    const seg = segments[i];
    let next = hasOwn(cur, seg) ? cur[seg] : undefined;
    if (!isRecordObject(next)) {
      next = {};
      cur[seg] = next;
    }
    cur = next as Record<string, unknown>;
  }
  cur[segments[segments.length - 1]] = value;
}

/** Compiles a validated scheme (re-checks its semantics; throws `SchemeError` if they fail). */
export function compileScheme(scheme: Scheme, options: CompileOptions = {}): CompiledMapping {
  const semantic = checkSchemeSemantics(scheme);
  if (semantic.length > 0) {
    throw new SchemeError(
      semantic.map((s) => ({
        file: `scheme ${scheme.id}`,
        path: formatSchemePath(s.path),
        message: s.message,
      })),
    );
  }
  const limits = { ...DEFAULT_FORMULA_LIMITS, ...options.formulaLimits };
  const c = new Compiler(scheme, limits);

  const headerFormulas: CompiledFormula[] = [];
  const header: FieldPlan[] = Object.entries(scheme.mapping.header).map(([name, spec]) =>
    c.fieldPlan(name, spec, undefined, headerFormulas, fieldTargetPath(name, spec).join('.')),
  );
  const entries: EntryPlan[] = scheme.mapping.entries.map((entry) => {
    const formulas: CompiledFormula[] = [];
    const fields = Object.entries(entry.fields).map(([name, spec]) =>
      c.fieldPlan(name, spec, entry, formulas, `${entry.path}[].${fieldTargetPath(name, spec).join('.')}`),
    );
    return {
      segments: entry.path.split('.'),
      path: entry.path,
      names: entrySourceNames(entry),
      fields,
      formulas,
    };
  });
  const preconditions = scheme.preconditions.map((pc, i) => c.precondition(pc, i));

  const keyField = scheme.target.idempotencyKey.field;
  const keySpec = Object.entries(scheme.mapping.header).find(
    ([name, spec]) => fieldTargetPath(name, spec).join('.') === keyField,
  )?.[1];
  const keyMaxLength = keySpec?.maxLength ?? DEFAULT_MAX_TEXT_LENGTH;
  const keyParts = parseTemplate(scheme.target.idempotencyKey.source).parts.map(
    (p): string | { get: (r: Rec) => unknown; source: string } | null =>
      p.kind === 'text'
        ? p.text
        : p.kind === 'sid'
          ? null
          : { get: c.recordGetter(p.path), source: p.path.join('.') },
  );

  const usesFormulas =
    headerFormulas.length > 0 ||
    entries.some((e) => e.formulas.length > 0) ||
    preconditions.some((p) => 'formula' in p);

  /** Step 1: shape. Returns each entry's lines. */
  const shape = (record: unknown): { rec: Rec; lines: Rec[][] } => {
    if (!isRecordObject(record)) {
      throw new MappingError(
        'malformed_record',
        '(record)',
        `the record is ${previewValue(record)}, expected a JSON object`,
      );
    }
    const lines = entries.map((e) => {
      const v = ownFirst(record, e.names);
      const src = e.names[0];
      if (v === undefined || v === null) {
        throw new MappingError(
          'malformed_record',
          src,
          `the line array ${src} is ${v === null ? 'null' : 'missing'} (expected an array of goods lines)`,
          src,
        );
      }
      if (!Array.isArray(v)) {
        throw new MappingError(
          'malformed_record',
          src,
          `${src} is ${previewValue(v)}, expected an array of lines`,
          src,
        );
      }
      for (let i = 0; i < v.length; i++) {
        if (!isRecordObject(v[i])) {
          throw new MappingError(
            'malformed_record',
            `${src}[${i}]`,
            `line ${i} is ${previewValue(v[i])}, expected an object`,
            `${src}[${i}]`,
          );
        }
      }
      return v as Rec[];
    });
    return { rec: record, lines };
  };

  /** Step 2: the idempotency key, from string values only. */
  const billKeyOf = (rec: Rec, sid: string | undefined): string => {
    let key = '';
    for (const p of keyParts) {
      if (typeof p === 'string') {
        key += p;
        continue;
      }
      if (p === null) {
        if (sid === undefined) throw missingSid(keyField);
        key += sid;
        continue;
      }
      const v = p.get(rec);
      if (isEmptyValue(v)) {
        throw new MappingError(
          'missing_required',
          keyField,
          `the idempotency key needs ${p.source}, which is ${v === '' ? 'empty' : 'missing'}`,
          p.source,
        );
      }
      if (typeof v !== 'string') {
        throw new MappingError(
          'bad_value',
          keyField,
          `${p.source} ${previewValue(v, p.source)} must be a string for the idempotency key`,
          p.source,
        );
      }
      key += v;
    }
    try {
      return checkText(key, keyMaxLength);
    } catch (e) {
      const src = keyParts.find(
        (p): p is { get: (r: Rec) => unknown; source: string } => typeof p !== 'string' && p !== null,
      );
      throw conversionToMapping(e, keyField, src?.source ?? '', key);
    }
  };

  const skipped = (pc: PreconditionPlan, rec: Rec, billKey: string, sid: string | undefined): MapResult => ({
    outcome: 'skipped',
    billKey,
    reason: pc.reason(rec, sid),
    precondition: pc.name,
  });

  /** Value of one field, or undefined to omit it. Errors leave `field` to the caller's relabel(). */
  const fieldValue = (plan: FieldPlan, raw: unknown, source: string): unknown => {
    const field = UNLABELLED;
    if (plan.kind === 'const') return plan.constValue!();
    if (isEmptyValue(raw)) {
      if (plan.required) {
        throw new MappingError(
          'missing_required',
          field,
          plan.kind === 'formula'
            ? 'is required but the formula gave no value'
            : `is required but ${source} is ${raw === '' ? 'empty' : 'missing'}`,
          plan.kind === 'formula' ? undefined : source,
        );
      }
      return undefined;
    }
    let v: unknown = raw;
    if (plan.valueMap) v = applyValueMap(plan.valueMap, raw, source);
    let out: unknown;
    try {
      out = plan.convert(v);
    } catch (e) {
      throw conversionToMapping(e, field, plan.kind === 'formula' ? 'formula result' : source, v);
    }
    if (out === undefined && plan.required) {
      throw new MappingError(
        'missing_required',
        field,
        `is required but ${source} ${previewValue(v, source)} is an empty date`,
        source,
      );
    }
    return out;
  };

  const applyValueMap = (vm: CompiledValueMap, raw: unknown, source: string): unknown => {
    const field = UNLABELLED;
    let key: string;
    try {
      key = typeof raw === 'string' ? raw : toText(raw);
    } catch (e) {
      throw conversionToMapping(e, field, source, raw);
    }
    const hit = vm.entries.get(key);
    if (hit !== undefined) return hit;
    if (vm.onMissing === 'passthrough') return raw;
    if (vm.onMissing === 'default') return vm.fallback;
    throw new MappingError(
      'value_map_miss',
      field,
      `${source} ${previewValue(raw, source)} is not in value map ${vm.name} (onMissing: fail)`,
      source,
    );
  };

  /** Step 4: assemble the model; formula results come precomputed (or not at all). */
  const assemble = (
    rec: Rec,
    lines: Rec[][],
    billKey: string,
    headerValues: unknown[] | undefined,
    lineValues: unknown[][][] | undefined,
    sid: string | undefined,
  ): MapResult => {
    const model: Record<string, unknown> = {};
    for (const plan of header) {
      let v: unknown;
      try {
        const raw =
          plan.kind === 'template' ? plan.read!(rec, undefined, -1, sid) : headerValues?.[plan.formulaIndex!];
        v = fieldValue(plan, raw, plan.sourceText);
      } catch (err) {
        throw relabel(err, plan.targetText);
      }
      if (v === undefined) continue;
      if (plan.segments.length === 1) model[plan.segments[0]] = v;
      else setPath(model, plan.segments, v);
    }
    for (let e = 0; e < entries.length; e++) {
      const entry = entries[e];
      const src = lines[e];
      const out: Record<string, unknown>[] = new Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const line = src[i];
        const obj: Record<string, unknown> = {};
        for (const plan of entry.fields) {
          let v: unknown;
          try {
            const raw =
              plan.kind === 'template'
                ? plan.read!(rec, line, i, sid)
                : lineValues?.[e][i][plan.formulaIndex!];
            v = fieldValue(plan, raw, plan.sourceText);
          } catch (err) {
            throw relabel(err, `${entry.path}[${i}].${plan.targetText}`, i);
          }
          if (v === undefined) continue;
          if (plan.segments.length === 1) obj[plan.segments[0]] = v;
          else setPath(obj, plan.segments, v);
        }
        out[i] = obj;
      }
      if (entry.segments.length === 1) model[entry.segments[0]] = out;
      else setPath(model, entry.segments, out);
    }
    const kept = hasOwn(model, keyField) ? model[keyField] : undefined;
    if (typeof kept === 'string' && kept !== billKey) {
      throw new MappingError(
        'key_mismatch',
        keyField,
        `the model's ${keyField} ${previewValue(kept)} differs from the idempotency key ${previewValue(billKey)}`,
      );
    }
    return { outcome: 'document', billKey, model };
  };

  const mapSync = (record: unknown, context?: MappingContext): MapResult => {
    if (usesFormulas) throw new Error(`scheme ${scheme.id} uses formulas; use map()`);
    const sid = context?.sid;
    const { rec, lines } = shape(record);
    const billKey = billKeyOf(rec, sid);
    try {
      for (const pc of preconditions) {
        if (!(pc as { test: (r: Rec) => boolean }).test(rec)) return skipped(pc, rec, billKey, sid);
      }
      return assemble(rec, lines, billKey, undefined, undefined, sid);
    } catch (e) {
      throw e instanceof MappingError ? e.withBillKey(billKey) : e;
    }
  };

  const evaluate = async (
    f: CompiledFormula,
    input: unknown,
    bindings: Record<string, unknown> | undefined,
  ) => {
    try {
      return await f.expr.evaluate(input, bindings);
    } catch (e) {
      throw new MappingError('formula_error', f.field, `formula failed: ${describeJsonataError(e)}`);
    }
  };

  const map = async (record: unknown, context?: MappingContext): Promise<MapResult> => {
    if (!usesFormulas) return mapSync(record, context);
    const sid = context?.sid;
    const { rec, lines } = shape(record);
    const billKey = billKeyOf(rec, sid);
    // `$sid` in formulas; unbound (undefined) when the evaluation has no sid.
    const bindings = sid === undefined ? undefined : { sid };
    try {
      // Formulas see the line arrays under their canonical names even when sent under an alias.
      let input: Rec = rec;
      entries.forEach((entry, e) => {
        if (!hasOwn(rec, entry.names[0]) || rec[entry.names[0]] !== lines[e]) {
          if (input === rec) input = { ...rec };
          Object.defineProperty(input, entry.names[0], { value: lines[e], enumerable: true, writable: true });
        }
      });
      for (const pc of preconditions) {
        if ('test' in pc) {
          if (!pc.test(rec)) return skipped(pc, rec, billKey, sid);
          continue;
        }
        const ok = await evaluate(pc.formula, input, bindings);
        if (ok !== true && ok !== false && ok !== undefined) {
          throw new MappingError(
            'formula_error',
            pc.formula.field,
            `a precondition formula must give true or false, got ${previewValue(ok)}`,
          );
        }
        if (ok !== true) return skipped(pc, rec, billKey, sid);
      }
      const headerValues = await Promise.all(headerFormulas.map((f) => evaluate(f, input, bindings)));
      const lineValues = await Promise.all(
        entries.map((entry, e) =>
          Promise.all(
            lines[e].map((line, i) =>
              entry.formulas.length === 0
                ? Promise.resolve([])
                : Promise.all(
                    entry.formulas.map((f) =>
                      evaluate(f, input, { line, lineIndex: i, sid }).catch((err: unknown) => {
                        throw relabel(err, f.field.replace('[]', `[${i}]`), i);
                      }),
                    ),
                  ),
            ),
          ),
        ),
      );
      return assemble(rec, lines, billKey, headerValues, lineValues, sid);
    } catch (e) {
      throw e instanceof MappingError ? e.withBillKey(billKey) : e;
    }
  };

  return { scheme, usesFormulas, map, mapSync };
}

/** Gives a field-level error its field name and, for lines, the line index in its source path. */
function relabel(err: unknown, field: string, lineIndex?: number): unknown {
  if (!(err instanceof MappingError)) return err;
  if (lineIndex === undefined) return new MappingError(err.code, field, err.detail, err.source, err.billKey);
  const source = err.source?.replace('[]', `[${lineIndex}]`);
  const detail = err.detail.replace(/(\w+)\[\]\./g, `$1[${lineIndex}].`);
  return new MappingError(err.code, field, detail, source, err.billKey);
}
