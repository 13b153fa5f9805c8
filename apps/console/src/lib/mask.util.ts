// Personal data (receiver name / mobile / address) is masked by the operator for viewers and
// operators; the console masks again before showing any record, so a shape the server missed never
// reaches a screen in clear unless the user is an admin who asked to reveal it.
const PII_KEY = /^(receiver_\w+|buyer_(name|nick|mobile|address)|mobile|telno|phone|address)$/i;

export function isPiiKey(key: string): boolean {
  return PII_KEY.test(key);
}

/** Already masked by the server (`张*`, `138****5678`, `***`). */
export function isMasked(value: unknown): boolean {
  return typeof value === 'string' && /\*{1,}/.test(value);
}

/** Keeps the first character (and the last four of a number), stars the rest. */
export function maskValue(value: unknown): unknown {
  if (value === null || value === undefined || value === '') return value;
  if (isMasked(value)) return value;
  const text = String(value);
  if (/^\+?\d[\d -]{6,}$/.test(text)) return `${text.slice(0, 3)}****${text.slice(-4)}`;
  return `${[...text][0]}${'*'.repeat(Math.min(6, Math.max(1, [...text].length - 1)))}`;
}

/** A deep copy with personal fields masked (admins revealing data pass `reveal`). */
export function maskPii<T>(value: T, reveal = false): T {
  if (reveal) return value;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map(([k, inner]) => [
          k,
          isPiiKey(k) && (typeof inner === 'string' || typeof inner === 'number')
            ? maskValue(inner)
            : walk(inner),
        ]),
      );
    }
    return v;
  };
  return walk(value) as T;
}
