import type {
  KingdeeBillQuery,
  KingdeeOperationResult,
  KingdeeQueryRow,
  KingdeeSaveResult,
  KingdeeViewResult,
} from './kingdee.types';

/** Request-level options of Save/BatchSave (omitted ones take the server's defaults). */
export interface KingdeeSaveOptions {
  isAutoSubmitAndAudit?: boolean;
  isVerifyBaseDataField?: boolean;
  subSystemId?: string;
  needUpDateFields?: string[];
  needReturnFields?: string[];
  isDeleteEntry?: boolean;
  isEntryBatchFill?: boolean;
  validateFlag?: boolean;
  numberSearch?: boolean;
  isAutoAdjustField?: boolean;
  interationFlags?: string;
  ignoreInterationFlag?: boolean;
  isControlPrecision?: boolean;
  validateRepeatJson?: boolean;
  /** Server-side threads; only used when there are more models than it. */
  batchCount?: number;
  /** Send booleans as "true"/"false" as the official templates do (default false). */
  booleansAsStrings?: boolean;
  /** Further `data` keys, sent as given. */
  extra?: Record<string, unknown>;
  signal?: AbortSignal;
}

/** Which bills a Submit/Audit targets. */
export interface KingdeeBillTarget {
  numbers?: string[];
  ids?: Array<string | number>;
  createOrgId?: number;
  /** Further `data` keys (SelectedPostId, NetworkCtrl, InterationFlags, IsVerifyProcInst, ...). */
  extra?: Record<string, unknown>;
  signal?: AbortSignal;
}

export interface KingdeeViewTarget {
  number?: string;
  id?: string | number;
  createOrgId?: number;
  signal?: AbortSignal;
}

/** The calls the loader needs; implemented by {@link KingdeeClient} and {@link KingdeeSessionPool}. */
export interface KingdeeApi {
  batchSave(
    formId: string,
    models: Record<string, unknown>[],
    options?: KingdeeSaveOptions,
  ): Promise<KingdeeSaveResult>;
  save(
    formId: string,
    model: Record<string, unknown>,
    options?: KingdeeSaveOptions,
  ): Promise<KingdeeSaveResult>;
  submit(formId: string, target: KingdeeBillTarget): Promise<KingdeeOperationResult>;
  audit(formId: string, target: KingdeeBillTarget): Promise<KingdeeOperationResult>;
  view(formId: string, target: KingdeeViewTarget): Promise<KingdeeViewResult>;
  executeBillQuery(query: KingdeeBillQuery, signal?: AbortSignal): Promise<unknown[][]>;
  executeBillQueryObjects(query: KingdeeBillQuery, signal?: AbortSignal): Promise<KingdeeQueryRow[]>;
}
