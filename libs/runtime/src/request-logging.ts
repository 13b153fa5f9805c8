import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { Logger } from 'pino';

/** The header a caller (or a proxy) may set to follow its request through our logs; echoed back. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Probes and metrics are polled every few seconds: logging them would bury the requests people make. */
const QUIET_PATHS = new Set(['/health', '/ready', '/metrics']);

/** A caller's request id is kept when it is a plain token (no log injection, bounded length). */
const ACCEPTED_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * nestjs-pino's settings for a service: one line per HTTP request (method, path, status, time, request
 * id; never headers, so no token or cookie), at warn for 4xx and error for 5xx, through the service's
 * root logger (its redaction applies). The request id is the caller's `x-request-id` when it is a
 * plain token, else a new UUID, and is returned in the same header.
 */
export function requestLoggingParams(logger: Logger): Params {
  return {
    // Nest 11's route syntax for "every path" (nestjs-pino's default '*' is the legacy form).
    forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
    pinoHttp: {
      logger,
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const given = req.headers[REQUEST_ID_HEADER];
        const id = typeof given === 'string' && ACCEPTED_ID.test(given) ? given : randomUUID();
        res.setHeader(REQUEST_ID_HEADER, id);
        return id;
      },
      autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.has(pathOf(req)) },
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      customSuccessMessage: requestLine,
      customErrorMessage: requestLine,
      serializers: {
        req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
  };
}

/** `GET /api/schemes 200`: the same words whether the request succeeded or failed. */
function requestLine(req: IncomingMessage, res: ServerResponse): string {
  return `${req.method} ${pathOf(req)} ${res.statusCode}`;
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
