/** Parsed shapes of Kingdee responses (camelCase; numbers/booleans normalised). */

export interface KingdeeFieldError {
  fieldName: string | null;
  message: string;
  /** Index into the request's `Model` array; null when the server gave none. */
  dIndex: number | null;
}

export interface KingdeeSuccessEntity {
  /** FID as text (Kingdee ids are 64-bit). */
  id: string;
  number: string | null;
  dIndex: number | null;
}

export interface KingdeeSuccessMessage {
  fieldName: string | null;
  message: string;
  dIndex: number | null;
}

export interface KingdeeResponseStatus {
  isSuccess: boolean;
  msgCode: number;
  errorCode: string | null;
  errors: KingdeeFieldError[];
  successEntities: KingdeeSuccessEntity[];
  successMessages: KingdeeSuccessMessage[];
}

/** Result of Save/Submit/Audit/... after the call itself went through. */
export interface KingdeeOperationResult {
  status: KingdeeResponseStatus;
  /** `Result.NeedReturnData` when present. */
  needReturnData: unknown[];
}

/**
 * What the server said about one model of a BatchSave:
 * - `saved`: listed in SuccessEntitys (id/number known);
 * - `failed`: has errors for its DIndex (or the whole call failed without any success);
 * - `unreported`: neither — e.g. rolled back because another model failed. Whether such a model
 *   (or a `saved` one next to failures) stays saved is unconfirmed: query before rewriting.
 */
export interface KingdeeModelOutcome {
  dIndex: number;
  status: 'saved' | 'failed' | 'unreported';
  id: string | null;
  number: string | null;
  errors: KingdeeFieldError[];
}

export interface KingdeeSaveResult extends KingdeeOperationResult {
  outcomes: KingdeeModelOutcome[];
}

/** Result of View: the bill object as the server returns it (`Result.Result`). */
export interface KingdeeViewResult {
  status: KingdeeResponseStatus;
  bill: Record<string, unknown> | null;
}

/** One row of ExecuteBillQuery keyed by field key. */
export type KingdeeQueryRow = Record<string, unknown>;

/** Array-form filter item (newer servers). */
export interface KingdeeFilterItem {
  FieldName: string;
  Compare: string;
  Value: string;
  Left?: string;
  Right?: string;
  Logic?: number | string;
}

export interface KingdeeBillQuery {
  FormId: string;
  /** Comma-separated text or a list of keys. */
  FieldKeys: string | string[];
  FilterString?: string | KingdeeFilterItem[];
  OrderString?: string;
  TopRowCount?: number;
  StartRow?: number;
  Limit?: number;
  SubSystemId?: string;
}
