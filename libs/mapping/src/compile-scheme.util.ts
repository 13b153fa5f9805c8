import {
  checkSchemeSemantics,
  convertValue,
  DEFAULT_MAX_TEXT_LENGTH,
  entrySourceNames,
  fieldTargetPath,
  formatSchemePath,
  isEmptyValue,
  parseTemplate,
  SchemeError,
  toText,
  type EntrySpec,
  type FieldSpec,
  type ParsedTemplate,
  type Precondition,
  type Scheme,
} from '@libs/scheme';
import { compileFormula, DEFAULT_FORMULA_LIMITS, type FormulaLimits } from './formula-functions.util';
import {
  type CompiledFormula,
  type CompiledMapping,
  type CompiledValueMap,
  conversionToMapping,
  type Converter,
  type EntryPlan,
  type FieldPlan,
  type KeyPart,
  missingSid,
  type PreconditionPlan,
  UNLABELLED,
} from './mapping-plan';
import { MappingRuntime } from './mapping.runtime';
import { compilePathGetter, isRecordObject, ownFirst, type Rec } from './record-access.util';

export type { CompiledMapping, MapResult, MappingContext } from './mapping-plan';

/**
 * The mapping compiler: `compileScheme` turns a validated scheme into a {@link MappingPlan} once —
 * plain templates into own-property reads, value maps into lookups, formulas into JSONata
 * expressions (only `formula` fields and formula preconditions touch JSONata) — and hands it to
 * {@link MappingRuntime}, which maps records.
 */

export interface CompileOptions {
  formulaLimits?: Partial<FormulaLimits>;
}

/** A template part's read: the record, the current line (entries), the source sid. */
type PartGetter = (record: Rec, line: Rec | undefined, sid: string | undefined) => unknown;

/** `{{$sid}}`: the evaluation's sid, or a `missing_required` error the caller labels with its field. */
const readSid: PartGetter = (_r, _line, sid) => {
  if (sid === undefined) throw missingSid(UNLABELLED);
  return sid;
};

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
  const keyParts = parseTemplate(scheme.target.idempotencyKey.source).parts.map((p): KeyPart =>
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

  return new MappingRuntime({
    scheme,
    header,
    headerFormulas,
    entries,
    preconditions,
    keyField,
    keyMaxLength,
    keyParts,
    usesFormulas,
  });
}
