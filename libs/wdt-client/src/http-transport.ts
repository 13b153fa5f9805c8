/**
 * The HTTP layer behind a tiny interface so unit tests can fake it. The fetch implementation applies the
 * timeout with `AbortSignal.timeout` and never follows the caller into logging: it knows nothing of secrets.
 */
export interface HttpPostRequest {
  url: string;
  /** Already-encoded body. */
  body: string;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  /** Caller cancellation (combined with the timeout). */
  signal?: AbortSignal;
}

export interface HttpPostResponse {
  status: number;
  body: string;
  contentType: string | null;
}

export interface HttpTransport {
  post(request: HttpPostRequest): Promise<HttpPostResponse>;
}

export type HttpTransportFailure = 'timeout' | 'aborted' | 'network';

/** Thrown by transports when no HTTP response arrived. The message never contains the request body. */
export class HttpTransportError extends Error {
  constructor(
    message: string,
    readonly failure: HttpTransportFailure,
  ) {
    super(message);
    this.name = 'HttpTransportError';
  }
}

const errorName = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'name' in error
    ? String((error as { name: unknown }).name)
    : '';

/** Node 20 global `fetch`; TLS verification stays on. */
export class FetchHttpTransport implements HttpTransport {
  async post(request: HttpPostRequest): Promise<HttpPostResponse> {
    const timeout = AbortSignal.timeout(request.timeoutMs);
    const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
    try {
      const response = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal,
        redirect: 'error',
      });
      const body = await response.text();
      return { status: response.status, body, contentType: response.headers.get('content-type') };
    } catch (error) {
      const target = new URL(request.url);
      const where = `${target.origin}${target.pathname}`;
      if (timeout.aborted) {
        throw new HttpTransportError(`no response from ${where} within ${request.timeoutMs} ms`, 'timeout');
      }
      if (request.signal?.aborted || errorName(error) === 'AbortError') {
        throw new HttpTransportError(`request to ${where} was cancelled`, 'aborted');
      }
      const cause =
        error instanceof Error && error.cause instanceof Error
          ? error.cause.message
          : errorName(error) || 'error';
      throw new HttpTransportError(`request to ${where} failed: ${cause}`, 'network');
    }
  }
}
