import { checkText, describeJsonataError, isEmptyValue, toText } from '@libs/scheme';
import { MappingError } from './mapping.errors';
import {
  type CompiledFormula,
  type CompiledMapping,
  type CompiledValueMap,
  conversionToMapping,
  type FieldPlan,
  type MapResult,
  type MappingContext,
  type MappingPlan,
  missingSid,
  type PreconditionPlan,
  UNLABELLED,
} from './mapping-plan';
import { isRecordObject, ownFirst, previewValue, type Rec } from './record-access.util';

const hasOwn = Object.hasOwn;

/**
 * Runs a compiled scheme (a {@link MappingPlan}) on one record at a time:
 *   1. shape: the record is an object, every entry's line array is present, an array, of objects
 *      → else `MappingError('malformed_record')`;
 *   2. key: the idempotency key renders from string values (numbers could have lost digits);
 *   3. preconditions, in order: the first failing one → `{ outcome: 'skipped', reason, precondition }`;
 *   4. fields, header first then entries → the model; any problem → `MappingError` (dead letter).
 * JSONata 2 is asynchronous, so `map` returns a promise; schemes without formulas also offer
 * `mapSync` (same result, no promise). `map` and `mapSync` may be passed around unbound.
 */
export class MappingRuntime implements CompiledMapping {
  readonly scheme: MappingPlan['scheme'];
  readonly usesFormulas: boolean;

  constructor(private readonly plan: MappingPlan) {
    this.scheme = plan.scheme;
    this.usesFormulas = plan.usesFormulas;
  }

  /** Step 1: shape. Returns each entry's lines. */
  private shape(record: unknown): { rec: Rec; lines: Rec[][] } {
    if (!isRecordObject(record)) {
      throw new MappingError(
        'malformed_record',
        '(record)',
        `the record is ${previewValue(record)}, expected a JSON object`,
      );
    }
    const lines = this.plan.entries.map((e) => {
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
  }

  /** Step 2: the idempotency key, from string values only. */
  private billKeyOf(rec: Rec, sid: string | undefined): string {
    const { keyParts, keyField, keyMaxLength } = this.plan;
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
  }

  private skipped(pc: PreconditionPlan, rec: Rec, billKey: string, sid: string | undefined): MapResult {
    return { outcome: 'skipped', billKey, reason: pc.reason(rec, sid), precondition: pc.name };
  }

  /** Value of one field, or undefined to omit it. Errors leave `field` to the caller's relabel(). */
  private fieldValue(plan: FieldPlan, raw: unknown, source: string): unknown {
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
    if (plan.valueMap) v = this.applyValueMap(plan.valueMap, raw, source);
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
  }

  private applyValueMap(vm: CompiledValueMap, raw: unknown, source: string): unknown {
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
  }

  /** Step 4: assemble the model; formula results come precomputed (or not at all). */
  private assemble(
    rec: Rec,
    lines: Rec[][],
    billKey: string,
    headerValues: unknown[] | undefined,
    lineValues: unknown[][][] | undefined,
    sid: string | undefined,
  ): MapResult {
    const { header, entries, keyField } = this.plan;
    const model: Record<string, unknown> = {};
    for (const plan of header) {
      let v: unknown;
      try {
        const raw =
          plan.kind === 'template' ? plan.read!(rec, undefined, -1, sid) : headerValues?.[plan.formulaIndex!];
        v = this.fieldValue(plan, raw, plan.sourceText);
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
            v = this.fieldValue(plan, raw, plan.sourceText);
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
  }

  readonly mapSync = (record: unknown, context?: MappingContext): MapResult => {
    const { preconditions } = this.plan;
    if (this.usesFormulas) throw new Error(`scheme ${this.scheme.id} uses formulas; use map()`);
    const sid = context?.sid;
    const { rec, lines } = this.shape(record);
    const billKey = this.billKeyOf(rec, sid);
    try {
      for (const pc of preconditions) {
        if (!(pc as { test: (r: Rec) => boolean }).test(rec)) return this.skipped(pc, rec, billKey, sid);
      }
      return this.assemble(rec, lines, billKey, undefined, undefined, sid);
    } catch (e) {
      throw e instanceof MappingError ? e.withBillKey(billKey) : e;
    }
  };

  private async evaluate(f: CompiledFormula, input: unknown, bindings: Record<string, unknown> | undefined) {
    try {
      return await f.expr.evaluate(input, bindings);
    } catch (e) {
      throw new MappingError('formula_error', f.field, `formula failed: ${describeJsonataError(e)}`);
    }
  }

  readonly map = async (record: unknown, context?: MappingContext): Promise<MapResult> => {
    const { preconditions, headerFormulas, entries } = this.plan;
    if (!this.usesFormulas) return this.mapSync(record, context);
    const sid = context?.sid;
    const { rec, lines } = this.shape(record);
    const billKey = this.billKeyOf(rec, sid);
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
          if (!pc.test(rec)) return this.skipped(pc, rec, billKey, sid);
          continue;
        }
        const ok = await this.evaluate(pc.formula, input, bindings);
        if (ok !== true && ok !== false && ok !== undefined) {
          throw new MappingError(
            'formula_error',
            pc.formula.field,
            `a precondition formula must give true or false, got ${previewValue(ok)}`,
          );
        }
        if (ok !== true) return this.skipped(pc, rec, billKey, sid);
      }
      const headerValues = await Promise.all(headerFormulas.map((f) => this.evaluate(f, input, bindings)));
      const lineValues = await Promise.all(
        entries.map((entry, e) =>
          Promise.all(
            lines[e].map((line, i) =>
              entry.formulas.length === 0
                ? Promise.resolve([])
                : Promise.all(
                    entry.formulas.map((f) =>
                      this.evaluate(f, input, { line, lineIndex: i, sid }).catch((err: unknown) => {
                        throw relabel(err, f.field.replace('[]', `[${i}]`), i);
                      }),
                    ),
                  ),
            ),
          ),
        ),
      );
      return this.assemble(rec, lines, billKey, headerValues, lineValues, sid);
    } catch (e) {
      throw e instanceof MappingError ? e.withBillKey(billKey) : e;
    }
  };
}

/** Gives a field-level error its field name and, for lines, the line index in its source path. */
function relabel(err: unknown, field: string, lineIndex?: number): unknown {
  if (!(err instanceof MappingError)) return err;
  if (lineIndex === undefined) return new MappingError(err.code, field, err.detail, err.source, err.billKey);
  const source = err.source?.replace('[]', `[${lineIndex}]`);
  const detail = err.detail.replace(/(\w+)\[\]\./g, `$1[${lineIndex}].`);
  return new MappingError(err.code, field, detail, source, err.billKey);
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
