/** Why a record cannot become a document; it goes to the dead-letter topic with this code. */
export const MAPPING_ERROR_CODES = [
  /** The record is not an object, or its line array is missing / not an array / has non-object elements. */
  'malformed_record',
  /** A required field (or the idempotency key) has no value. */
  'missing_required',
  /** Wrong JSON type for the field (object where text is expected, numeric key, …). */
  'bad_value',
  /** Control characters, unpaired surrogates or U+FFFD: text broken upstream. */
  'bad_encoding',
  /** Longer than the field's maxLength. */
  'value_too_long',
  'bad_decimal',
  'bad_integer',
  'bad_date',
  'bad_boolean',
  /** The value is not in the field's value map and the map says onMissing: fail. */
  'value_map_miss',
  /** A JSONata formula (field or precondition) failed or timed out. */
  'formula_error',
  /** The model's idempotency field differs from the key rendered from the record. */
  'key_mismatch',
] as const;
export type MappingErrorCode = (typeof MAPPING_ERROR_CODES)[number];

/**
 * A record that must be dead-lettered. `field` is the target field (`FPURMRBENTRY[1].FRMREALQTY`,
 * `FBillNo`), or the record path for shape problems (`details_list[2]`); `source` is the record path
 * read (`details_list[1].goods_count`) when there is one. Messages never carry more than a short,
 * truncated preview of a value, and none of personal fields (receiver_*).
 */
export class MappingError extends Error {
  override readonly name = 'MappingError';
  constructor(
    readonly code: MappingErrorCode,
    readonly field: string,
    readonly detail: string,
    readonly source?: string,
    readonly billKey?: string,
  ) {
    super(`${field}: ${detail}`);
  }

  /** A copy naming the bill, for errors raised before the key was known to the raiser. */
  withBillKey(billKey: string | undefined): MappingError {
    if (billKey === undefined || this.billKey !== undefined) return this;
    return new MappingError(this.code, this.field, this.detail, this.source, billKey);
  }

  toJSON(): { code: MappingErrorCode; field: string; source?: string; billKey?: string; message: string } {
    return {
      code: this.code,
      field: this.field,
      source: this.source,
      billKey: this.billKey,
      message: this.message,
    };
  }
}
