/** Writing replies on a raw `ServerResponse` (the sandbox has no framework in the way on purpose). */
import type { ServerResponse } from 'node:http';

export function sendText(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  headers: Record<string, string | string[]> = {},
): void {
  res.writeHead(status, {
    ...headers,
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, cookies: string[] = []): void {
  const headers: Record<string, string[]> = cookies.length > 0 ? { 'Set-Cookie': cookies } : {};
  sendText(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
}
