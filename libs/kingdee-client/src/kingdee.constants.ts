/** Service names of the K/3 Cloud Web API (`POST {serverUrl}/{ServiceName}.common.kdsvc`). */
export const KINGDEE_SERVICES = {
  validateUser: 'Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser',
  loginByAppSecret: 'Kingdee.BOS.WebApi.ServicesStub.AuthService.LoginByAppSecret',
  loginBySign: 'Kingdee.BOS.WebApi.ServicesStub.AuthService.LoginBySign',
  save: 'Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save',
  batchSave: 'Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.BatchSave',
  submit: 'Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Submit',
  audit: 'Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Audit',
  unAudit: 'Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.UnAudit',
  view: 'Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.View',
  delete: 'Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Delete',
  executeBillQuery: 'Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery',
} as const;

export type KingdeeServiceKey = keyof typeof KINGDEE_SERVICES;
export type KingdeeServiceName = (typeof KINGDEE_SERVICES)[KingdeeServiceKey];

/**
 * Calls that change data. Once the request has left, a lost reply, a timeout, any HTTP 5xx, an
 * unreadable reply or a call-level MsgCode 4/6/13 makes their outcome unknown (`ambiguous`).
 */
export const KINGDEE_WRITE_SERVICES: ReadonlySet<string> = new Set<string>([
  KINGDEE_SERVICES.save,
  KINGDEE_SERVICES.batchSave,
  KINGDEE_SERVICES.submit,
  KINGDEE_SERVICES.audit,
  KINGDEE_SERVICES.unAudit,
  KINGDEE_SERVICES.delete,
]);

/** `ResponseStatus.MsgCode` values (reference: kingdee-webapi.md). */
export const KingdeeMsgCode = {
  ok: 0,
  contextLost: 1,
  noPermission: 2,
  operationIdEmpty: 3,
  exception: 4,
  billIdEmpty: 5,
  databaseFailure: 6,
  licence: 7,
  parameterError: 8,
  fieldNotFound: 9,
  dataNotFound: 10,
  validationFailed: 11,
  notOperable: 12,
  networkControlConflict: 13,
  throttled: 14,
  adminLoginForbidden: 15,
} as const;

/** The message Kingdee returns (MsgCode 1) when a request carries no valid session. */
export const KINGDEE_LOST_SESSION_MESSAGE = '会话信息已丢失，请重新登录';

export const KINGDEE_SESSION_COOKIE = 'kdservice-sessionid';
export const KINGDEE_ASPNET_SESSION_COOKIE = 'ASP.NET_SessionId';

/** The SDK's XOR key for the secret part of an AppID: these 32 ASCII bytes (not hex-decoded). */
export const KINGDEE_APP_SECRET_XOR_KEY = '0054f397c6234378b09ca7d3e5debce7';

/** `LoginResultType` 1 means the login succeeded. */
export const KINGDEE_LOGIN_SUCCESS = 1;
