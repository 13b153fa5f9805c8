// The one place requests leave the console: same-origin cookies, the CSRF header on mutating calls,
// and a 401 anywhere but the session endpoint sends the user to the sign-in page.
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './openapi';

let csrfToken: string | null = null;
let onUnauthorized: () => void = () => undefined;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function prepare(request: Request): Request {
  if (!SAFE_METHODS.has(request.method.toUpperCase()) && csrfToken) {
    request.headers.set('X-CSRF-Token', csrfToken);
  }
  return request;
}

function inspect(request: Request, response: Response): Response {
  if (response.status === 401 && !new URL(request.url, location.origin).pathname.startsWith('/api/session')) {
    onUnauthorized();
  }
  return response;
}

export const csrfMiddleware: Middleware = {
  onRequest: ({ request }) => prepare(request),
  onResponse: ({ request, response }) => inspect(request, response),
};

/** Typed client of everything in docs/openapi.json. */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(csrfMiddleware);

export interface ApiErrorBody {
  statusCode?: number;
  message?: string | string[];
  issues?: { path: (string | number)[]; message: string }[];
  download?: boolean;
  [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(Array.isArray(body.message) ? body.message.join('; ') : (body.message ?? `HTTP ${status}`));
  }
}

export interface CallOptions {
  query?: Record<string, string | number | boolean | undefined | null>;
  body?: unknown;
  headers?: Record<string, string>;
}

export function withQuery(path: string, query?: CallOptions['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** A call to an endpoint not (yet) in docs/openapi.json, typed by the caller. */
export async function call<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: CallOptions = {},
): Promise<{ data: T; response: Response }> {
  const headers = new Headers(options.headers);
  if (options.body !== undefined) headers.set('Content-Type', 'application/json');
  const request = prepare(
    new Request(withQuery(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    }),
  );
  const response = inspect(request, await fetch(request));
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { message: text };
  }
  if (!response.ok) throw new ApiError(response.status, (parsed ?? {}) as ApiErrorBody);
  return { data: parsed as T, response };
}

/** Unwraps an openapi-fetch result into its data or an ApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiError(result.response.status, (result.error ?? {}) as ApiErrorBody);
  }
  return result.data as T;
}
