import type { RequestOptions, Scheme } from '@libs/scheme';

/** The named-dialect body of a Kingdee save call: `{"formid": …, "data": {…options, "Model": …}}`. */
export interface KingdeeSaveRequest {
  formid: string;
  data: RequestOptions & { Model: Record<string, unknown>[] | Record<string, unknown> };
}

/**
 * Builds the BatchSave (or Save) request for mapped models: request options in scheme order, then
 * `Model` (an array for BatchSave, the single model for Save). With `submitMode: auto` and no
 * explicit option, `IsAutoSubmitAndAudit: true` is put first.
 */
export function buildRequest(
  scheme: Scheme,
  models: ReadonlyArray<Record<string, unknown>>,
): KingdeeSaveRequest {
  const { operation, formId, requestOptions, submitMode, batchSize } = scheme.target;
  if (models.length === 0) throw new Error('buildRequest: no models');
  if (models.length > batchSize) {
    throw new Error(`buildRequest: ${models.length} models exceed the scheme's batchSize ${batchSize}`);
  }
  const options: RequestOptions =
    submitMode === 'auto' && requestOptions.IsAutoSubmitAndAudit === undefined
      ? { IsAutoSubmitAndAudit: true, ...requestOptions }
      : { ...requestOptions };
  if (operation === 'Save') {
    if (models.length !== 1) throw new Error('buildRequest: operation Save takes exactly one model');
    return { formid: formId, data: { ...options, Model: models[0] } };
  }
  return { formid: formId, data: { ...options, Model: [...models] } };
}
