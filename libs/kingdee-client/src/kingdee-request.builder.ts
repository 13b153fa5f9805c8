import type { KingdeeBillTarget, KingdeeSaveOptions, KingdeeViewTarget } from './kingdee-api';
import type { ResolvedKingdeeConfig } from './kingdee-client.config';
import { KINGDEE_SERVICES } from './kingdee.constants';
import { KingdeeError } from './kingdee.errors';
import type { KingdeeBillQuery } from './kingdee.types';
import type { KingdeeParam } from './kingdee-body.util';
import { normaliseFieldKeys } from './kingdee-response.util';
import { computeLoginSign } from './kingdee-sign.util';

/**
 * The `data` of each WebAPI call, built from typed options: Kingdee's own key names and value forms
 * (booleans as strings where a template wants them), nothing sent that the caller left out. Pure.
 */

function badArgument(message: string): KingdeeError {
  return new KingdeeError({ kind: 'permanent', code: 'KD_BAD_ARGUMENT', message });
}

/** Save/BatchSave's request-level keys (without `Model`). */
export function saveData(options: KingdeeSaveOptions): Record<string, unknown> {
  const b = (v: boolean): boolean | string => (options.booleansAsStrings ? String(v) : v);
  const data: Record<string, unknown> = {};
  const put = (key: string, v: unknown): void => {
    if (v !== undefined) data[key] = typeof v === 'boolean' ? b(v) : v;
  };
  put('NeedUpDateFields', options.needUpDateFields);
  put('NeedReturnFields', options.needReturnFields);
  put('IsDeleteEntry', options.isDeleteEntry);
  put('SubSystemId', options.subSystemId);
  put('IsVerifyBaseDataField', options.isVerifyBaseDataField);
  put('IsEntryBatchFill', options.isEntryBatchFill);
  put('ValidateFlag', options.validateFlag);
  put('NumberSearch', options.numberSearch);
  put('IsAutoAdjustField', options.isAutoAdjustField);
  put('InterationFlags', options.interationFlags);
  put('IgnoreInterationFlag', options.ignoreInterationFlag);
  put('IsControlPrecision', options.isControlPrecision);
  put('ValidateRepeatJson', options.validateRepeatJson);
  put('IsAutoSubmitAndAudit', options.isAutoSubmitAndAudit);
  put('BatchCount', options.batchCount);
  return { ...data, ...(options.extra ?? {}) };
}

/** Submit/Audit/Delete: the bills by numbers or ids. */
export function targetData(target: KingdeeBillTarget): Record<string, unknown> {
  const numbers = target.numbers ?? [];
  const ids = target.ids ?? [];
  if (numbers.length === 0 && ids.length === 0) throw badArgument('numbers or ids required');
  return {
    CreateOrgId: target.createOrgId ?? 0,
    Numbers: numbers,
    Ids: ids.map(String).join(','),
    ...(target.extra ?? {}),
  };
}

/** View: one bill by number or id. */
export function viewData(target: KingdeeViewTarget): Record<string, unknown> {
  if (target.number === undefined && target.id === undefined)
    throw badArgument('view needs a number or an id');
  const data: Record<string, unknown> = { CreateOrgId: target.createOrgId ?? 0 };
  if (target.number !== undefined) data.Number = target.number;
  if (target.id !== undefined) data.Id = String(target.id);
  return data;
}

/** ExecuteBillQuery's `data` (field keys normalised to one comma-separated string). */
export function billQueryData(query: KingdeeBillQuery): Record<string, unknown> {
  const data: Record<string, unknown> = {
    FormId: query.FormId,
    FieldKeys: normaliseFieldKeys(query.FieldKeys).join(','),
    FilterString: query.FilterString ?? '',
    OrderString: query.OrderString ?? '',
    TopRowCount: query.TopRowCount ?? 0,
    StartRow: query.StartRow ?? 0,
    Limit: query.Limit ?? 0,
  };
  if (query.SubSystemId !== undefined) data.SubSystemId = query.SubSystemId;
  return data;
}

/** The parameters of a form call: `formid` and the JSON `data`. */
export function formParams(formId: string, data: Record<string, unknown>): KingdeeParam[] {
  return [
    { name: 'formid', value: formId },
    { name: 'data', value: data, json: true },
  ];
}

/**
 * The login service and its parameters for the configured auth mode (not api_signature, which signs
 * every call instead): ValidateUser (password), LoginByAppSecret, or LoginBySign (timestamped sign).
 */
export function loginRequest(
  config: ResolvedKingdeeConfig,
  secrets: { password: string; appSecret: string },
  nowMs: number,
): { service: string; params: KingdeeParam[] } {
  const { acctId, username, appId, lcid, authMode } = config;
  if (authMode === 'validate_user')
    return {
      service: KINGDEE_SERVICES.validateUser,
      params: [
        { name: 'acctID', value: acctId },
        { name: 'username', value: username },
        { name: 'password', value: secrets.password },
        { name: 'lcid', value: lcid },
      ],
    };
  if (authMode === 'app_secret')
    return {
      service: KINGDEE_SERVICES.loginByAppSecret,
      params: [
        { name: 'acctID', value: acctId },
        { name: 'username', value: username },
        { name: 'appId', value: appId },
        { name: 'appSecret', value: secrets.appSecret },
        { name: 'lcid', value: lcid },
      ],
    };
  const timestamp = Math.floor(nowMs / 1000);
  const sign = computeLoginSign(
    { acctId, username, appId, appSecret: secrets.appSecret, timestamp },
    config.signAlgorithm,
  );
  return {
    service: KINGDEE_SERVICES.loginBySign,
    params: [
      { name: 'acctID', value: acctId },
      { name: 'username', value: username },
      { name: 'appId', value: appId },
      { name: 'timestamp', value: timestamp },
      { name: 'sign', value: sign },
      { name: 'lcid', value: lcid },
    ],
  };
}

/** The login service of the configured auth mode (for timing a login as a whole). */
export function loginService(config: ResolvedKingdeeConfig): string {
  return config.authMode === 'validate_user'
    ? KINGDEE_SERVICES.validateUser
    : config.authMode === 'app_secret'
      ? KINGDEE_SERVICES.loginByAppSecret
      : KINGDEE_SERVICES.loginBySign;
}
