import { ConversionError, type ConvertedValue, type FieldType, type Scheme } from '@libs/scheme';
import type jsonata from 'jsonata';
import { MappingError, type MappingErrorCode } from './mapping.errors';
import { previewValue, type Rec } from './record-access.util';

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

export type Converter = (v: unknown) => unknown;

export interface FieldPlan {
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

export interface CompiledValueMap {
  readonly name: string;
  readonly entries: ReadonlyMap<string, ConvertedValue>;
  readonly onMissing: 'fail' | 'passthrough' | 'default';
  readonly fallback?: ConvertedValue;
}

export interface EntryPlan {
  readonly segments: readonly string[];
  readonly path: string;
  readonly names: readonly string[];
  readonly fields: readonly FieldPlan[];
  readonly formulas: readonly CompiledFormula[];
}

export interface CompiledFormula {
  readonly expr: jsonata.Expression;
  readonly field: string;
}

export type PreconditionPlan = {
  readonly name: string;
  readonly reason: (record: Rec, sid: string | undefined) => string;
} & ({ readonly test: (record: Rec) => boolean } | { readonly formula: CompiledFormula });

/** One part of the idempotency key: literal text, the source sid (`null`) or a record read. */
export type KeyPart = string | null | { get: (r: Rec) => unknown; source: string };

/** What `compileScheme` makes of a scheme and `MappingRuntime` runs: every read and rule resolved once. */
export interface MappingPlan {
  readonly scheme: Scheme;
  readonly header: readonly FieldPlan[];
  readonly headerFormulas: readonly CompiledFormula[];
  readonly entries: readonly EntryPlan[];
  readonly preconditions: readonly PreconditionPlan[];
  readonly keyField: string;
  readonly keyMaxLength: number;
  readonly keyParts: readonly KeyPart[];
  readonly usesFormulas: boolean;
}

/** Field name placeholder of errors raised below the field loop; `relabel` sets the real one. */
export const UNLABELLED = '';

export function missingSid(field: string): MappingError {
  return new MappingError(
    'missing_required',
    field,
    "{{$sid}} needs the sid of the record's source connection, which this evaluation was not given",
    '$sid',
  );
}

/** A value conversion's failure as the field's MappingError (naming the source and the value). */
export function conversionToMapping(e: unknown, field: string, source: string, value: unknown): unknown {
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
