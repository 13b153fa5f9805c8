import { PII_FIELDS } from '@libs/contracts';

/**
 * Key names whose values never reach a log line, at any depth: credentials (ours and the APIs'
 * signing material) and the personal data of WDT orders. Matched case-insensitively on the whole key.
 */
export const REDACTED_KEYS: readonly string[] = [
  'password',
  'passwd',
  'appsecret',
  'app_secret',
  'secret',
  'client_secret',
  'sign',
  'signature',
  'token',
  'access_token',
  'accesstoken',
  'sessionid',
  'kdservice-sessionid',
  'cookie',
  'set-cookie',
  'authorization',
  'database_url',
  'database_migration_url',
  'kingdee_password',
  'kingdee_app_secret',
  'wdt_appsecret',
  'wdt_qimen_app_secret',
  'kafka_sasl_password',
  'operator_tokens',
  ...PII_FIELDS,
];

export const REDACTED = '[redacted]';

/** Deeper than this a log object is cut (`[depth limit]`): a log line is not a heap dump. */
const MAX_DEPTH = 12;

const KEYS = new Set(REDACTED_KEYS.map((k) => k.toLowerCase()));

/** Whether a key's value is kept out of logs. */
export function isRedactedKey(key: string): boolean {
  return KEYS.has(key.toLowerCase());
}

/**
 * A copy of `value` with every redacted key's value replaced, however deep it sits — pino's own
 * `redact` paths match fixed depths only, so `{err:{config:{auth:{password}}}}` would slip through.
 * Plain objects, arrays and errors are walked (an error keeps its type, message, stack, cause and own
 * fields); other class instances (requests, buffers, dates) are left to pino's serializers as they
 * are. Objects without a redacted key anywhere come back as the same reference (no copy).
 */
export function redactDeep<T>(value: T): T {
  return walk(value, 0, new WeakSet()) as T;
}

function walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const error = value instanceof Error;
  const array = Array.isArray(value);
  if (!error && !array && !isPlainObject(value)) return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[depth limit]';
  seen.add(value);
  try {
    if (array) {
      let copy: unknown[] | undefined;
      value.forEach((item, i) => {
        const next = walk(item, depth + 1, seen);
        if (next !== item) (copy ??= [...value])[i] = next;
      });
      return copy ?? value;
    }
    const source = value as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined = error ? errorFields(value) : undefined;
    for (const key of Object.keys(source)) {
      const item = source[key];
      const next =
        isRedactedKey(key) && item !== undefined && item !== null ? REDACTED : walk(item, depth + 1, seen);
      if (next !== item) copy ??= { ...source };
      if (copy) copy[key] = next;
    }
    if (error && (value as Error).cause !== undefined)
      copy!.cause = walk((value as Error).cause, depth + 1, seen);
    return copy ?? value;
  } finally {
    seen.delete(value);
  }
}

/** An error as the plain fields pino's error serializer would write, before its own fields. */
function errorFields(error: Error): Record<string, unknown> {
  return { type: error.name, message: error.message, stack: error.stack };
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
