/** What a client sees when a fault is injected: proxy pages, broken or incomplete replies. Pure. */
import { STATUS_CODES } from 'node:http';
import { errorReply } from './sandbox-reply.util';

export const EXCEPTION_AFTER_SAVE_MESSAGE = '服务端异常：未将对象引用设置到对象的实例。';
export const PARAMETER_COUNT_MISMATCH_MESSAGE = '参数个数不匹配 (Parameter count mismatch.)';

/** nginx's own error page, byte for byte (it is the proxy, not Kingdee, that answers). */
export function nginxErrorPage(status: number): string {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return (
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n` +
    `<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
  );
}

/** The first half of a JSON text: what a client reads when the connection is cut mid-body. */
export function truncateJson(text: string): string {
  return text.slice(0, Math.floor(text.length / 2));
}

/** MsgCode 4: an exception thrown after the save committed (a plug-in, the auto submit/audit step). */
export function exceptionAfterSaveReply(): unknown {
  return errorReply(4, EXCEPTION_AFTER_SAVE_MESSAGE);
}

/** What ASP.NET answers when a login body does not bind to the method's parameters. */
export function parameterCountMismatchReply(): unknown {
  return errorReply(4, PARAMETER_COUNT_MISMATCH_MESSAGE);
}

type Obj = Record<string, unknown>;

function successEntities(reply: unknown): Obj[] | undefined {
  const status = (reply as { Result?: { ResponseStatus?: { SuccessEntitys?: unknown } } } | null)?.Result
    ?.ResponseStatus;
  return Array.isArray(status?.SuccessEntitys) ? (status.SuccessEntitys as Obj[]) : undefined;
}

/** Number of `SuccessEntitys` of a save reply (0 when it has none or is not one). */
export function successCount(reply: unknown): number {
  return successEntities(reply)?.length ?? 0;
}

/** True for a reply whose ResponseStatus says `IsSuccess: true`. */
export function isSuccessReply(reply: unknown): boolean {
  return (
    (reply as { Result?: { ResponseStatus?: { IsSuccess?: unknown } } } | null)?.Result?.ResponseStatus
      ?.IsSuccess === true
  );
}

/** A copy of a save reply whose `SuccessEntitys` lack `DIndex`. */
export function withoutDIndex(reply: unknown): unknown {
  const copy = structuredClone(reply);
  for (const entity of successEntities(copy) ?? []) delete entity.DIndex;
  return copy;
}

/** A copy of a save reply missing its last `SuccessEntitys` item (still `IsSuccess: true`). */
export function withoutLastEntity(reply: unknown): unknown {
  const copy = structuredClone(reply);
  successEntities(copy)?.pop();
  return copy;
}
