import { AlertDeliveryError } from './alert.types';

/** Robots cap message size (WeCom: 4096 bytes of UTF-8 markdown); keep under it. */
export const MAX_TEXT_BYTES = 4000;

/** Cuts `text` to at most `maxBytes` of UTF-8, on a character boundary, marking the cut with …. */
export function truncateText(text: string, maxBytes = MAX_TEXT_BYTES): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let out = '';
  let bytes = 3; // room for the ellipsis
  for (const ch of text) {
    bytes += Buffer.byteLength(ch, 'utf8');
    if (bytes > maxBytes) break;
    out += ch;
  }
  return `${out}…`;
}

/**
 * POSTs JSON; rejects on a non-2xx answer or, for robots, a body with a non-zero `errcode`.
 * Errors name the channel and status, never the URL (robot URLs carry access tokens).
 */
export async function postJson(
  channel: string,
  url: string,
  body: unknown,
  options: { timeoutMs: number; checkErrcode: boolean },
): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause;
    throw new AlertDeliveryError(
      `${channel}: request failed: ${(err as Error).message}${cause ? ` (${cause.message})` : ''}`,
    );
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) throw new AlertDeliveryError(`${channel}: HTTP ${res.status} ${text.slice(0, 200)}`);
  if (options.checkErrcode) {
    let parsed: { errcode?: unknown; errmsg?: unknown } | undefined;
    try {
      parsed = JSON.parse(text) as { errcode?: unknown; errmsg?: unknown };
    } catch {
      throw new AlertDeliveryError(`${channel}: answer is not JSON: ${text.slice(0, 200)}`);
    }
    if (parsed && parsed.errcode !== undefined && parsed.errcode !== 0)
      throw new AlertDeliveryError(
        `${channel}: errcode ${String(parsed.errcode)} ${String(parsed.errmsg ?? '')}`,
      );
  }
}
