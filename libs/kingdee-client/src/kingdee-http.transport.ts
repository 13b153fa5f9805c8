/**
 * The HTTP layer behind a small interface so unit tests can fake it. The fetch implementation keeps
 * TLS verification on and times out with AbortSignal.timeout.
 */

export interface KingdeeHttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Optional caller cancellation. */
  signal?: AbortSignal;
}

export interface KingdeeHttpResponse {
  status: number;
  /** Raw `Set-Cookie` header values. */
  setCookies: string[];
  body: string;
}

export interface KingdeeHttpTransport {
  post(request: KingdeeHttpRequest): Promise<KingdeeHttpResponse>;
}

export type KingdeeTransportFailure = 'timeout' | 'aborted' | 'connect' | 'reset' | 'tls' | 'other';

/**
 * A failure below HTTP. `requestSent` is false only when the request certainly never reached the
 * server (refused, DNS, TLS handshake); otherwise a write's outcome is unknown.
 */
export class KingdeeTransportError extends Error {
  override readonly name = 'KingdeeTransportError';
  constructor(
    readonly failure: KingdeeTransportFailure,
    readonly requestSent: boolean,
    readonly causeCode: string,
  ) {
    super(`transport failure: ${failure} (${causeCode})`);
  }
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED', 'UND_ERR_CLOSED']);

function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** Maps a fetch/undici failure to a {@link KingdeeTransportError} without keeping its message. */
export function classifyFetchFailure(err: unknown, callerSignal?: AbortSignal): KingdeeTransportError {
  const name = err instanceof Error ? err.name : 'unknown';
  // The caller gave up (its signal may carry any reason as the rejection, not an AbortError).
  if (callerSignal?.aborted && name !== 'TimeoutError')
    return new KingdeeTransportError('aborted', true, 'AbortError');
  if (name === 'TimeoutError') return new KingdeeTransportError('timeout', true, 'TimeoutError');
  if (name === 'AbortError') {
    return callerSignal?.aborted
      ? new KingdeeTransportError('aborted', true, 'AbortError')
      : new KingdeeTransportError('timeout', true, 'AbortError');
  }
  const cause = err instanceof Error ? err.cause : undefined;
  const code = errorCode(cause) ?? errorCode(err);
  if (code && CONNECT_CODES.has(code)) return new KingdeeTransportError('connect', false, code);
  if (code && RESET_CODES.has(code)) return new KingdeeTransportError('reset', true, code);
  if (
    code &&
    (code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
  ) {
    return new KingdeeTransportError('tls', false, code);
  }
  return new KingdeeTransportError('other', true, code ?? name);
}

/** The production transport: Node's global fetch. */
export class FetchKingdeeHttpTransport implements KingdeeHttpTransport {
  async post(request: KingdeeHttpRequest): Promise<KingdeeHttpResponse> {
    const timeout = AbortSignal.timeout(request.timeoutMs);
    const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
    try {
      const res = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal,
        redirect: 'error',
      });
      const body = await res.text();
      return { status: res.status, setCookies: res.headers.getSetCookie(), body };
    } catch (err) {
      throw classifyFetchFailure(err, request.signal);
    }
  }
}
