/**
 * A WDT failure as operators read it (`lastError` of `/api/schemes`, `/ready`): the system, the
 * error kind and WDT's code, then the client's message (which never carries a secret).
 */
export function describeSourceError(error: unknown): string {
  const e = (error ?? {}) as { kind?: unknown; code?: unknown; message?: unknown };
  const kind = typeof e.kind === 'string' ? `${e.kind} error` : 'error';
  const code = typeof e.code === 'string' && e.code ? ` (code ${e.code})` : '';
  const message = typeof e.message === 'string' ? e.message : String(error);
  return `WDT ${kind}${code}: ${message}`;
}
