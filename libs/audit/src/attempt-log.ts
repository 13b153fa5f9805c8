import { DataSource } from 'typeorm';

/** Bodies are kept up to this many bytes (UTF-8 JSON) per order's model and per its slice of a reply. */
export const BODY_CAP_BYTES = 16 * 1024;

/** One call to Kingdee as it concerned one order: what was sent for it and what came back about it. */
export interface AttemptRecord {
  attemptId: string;
  schemeId: string;
  sourceKey: string;
  billKey: string;
  /** `BatchSave`, `Submit`, `Audit`. */
  operation: string;
  /** What the call came to for this order (e.g. `applied`, `rejected`, `ambiguous`). */
  outcome: string;
  request: unknown;
  reply: unknown;
}

/** Where attempts are kept: Postgres only, never a topic (they hold personal data, unmasked). */
export interface AttemptLog {
  record(rows: AttemptRecord[]): Promise<void>;
  /** Writes whatever is gathered (buffering logs); a no-op otherwise. */
  flush?(): Promise<void>;
}

/** A body as stored: the JSON itself when within the cap, else its head as text with the full size. */
export function capBody(value: unknown, cap = BODY_CAP_BYTES): { body: unknown; bytes: number } {
  if (value === undefined) return { body: null, bytes: 0 };
  const text = JSON.stringify(value) ?? 'null';
  const bytes = Buffer.byteLength(text);
  if (bytes <= cap) return { body: value, bytes };
  // Cut on a character boundary: decoding a byte slice could split a multi-byte character.
  let head = text.slice(0, cap);
  while (Buffer.byteLength(head) > cap) head = head.slice(0, Math.floor(head.length * 0.9));
  return { body: { truncated: true, bytes, head }, bytes };
}

export class PostgresAttemptLog implements AttemptLog {
  constructor(private readonly ds: DataSource) {}

  async record(rows: AttemptRecord[]): Promise<void> {
    if (rows.length === 0) return;
    const requests = rows.map((r) => capBody(r.request));
    const replies = rows.map((r) => capBody(r.reply));
    // Raw: one INSERT … SELECT FROM unnest for the whole batch (one round trip per batch).
    await this.ds.query(
      `INSERT INTO audit_attempts (attempt_id, scheme_id, source_key, bill_key, operation, outcome, request, reply,
         request_bytes, reply_bytes)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[],
         $8::jsonb[], $9::int[], $10::int[])
       ON CONFLICT (attempt_id, scheme_id, source_key) DO NOTHING`,
      [
        rows.map((r) => r.attemptId),
        rows.map((r) => r.schemeId),
        rows.map((r) => r.sourceKey),
        rows.map((r) => r.billKey),
        rows.map((r) => r.operation),
        rows.map((r) => r.outcome),
        requests.map((b) => JSON.stringify(b.body)),
        replies.map((b) => JSON.stringify(b.body)),
        requests.map((b) => b.bytes),
        replies.map((b) => b.bytes),
      ],
    );
  }
}

/**
 * Gathers attempts for a moment and writes them in one statement: a loader makes a call per batch
 * of a few documents, and one insert per call would cost as much as the claims themselves.
 */
export class BufferedAttemptLog implements AttemptLog {
  private rows: AttemptRecord[] = [];
  private waiting: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly inner: AttemptLog,
    private readonly lingerMs = 50,
    private readonly maxRows = 500,
  ) {}

  record(rows: AttemptRecord[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    this.rows.push(...rows);
    const done = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (this.rows.length >= this.maxRows) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.lingerMs);
    return done;
  }

  /** Writes what is gathered now. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rows = this.rows;
    const waiting = this.waiting;
    this.rows = [];
    this.waiting = [];
    if (rows.length === 0) return;
    try {
      await this.inner.record(rows);
      for (const w of waiting) w.resolve();
    } catch (err) {
      for (const w of waiting) w.reject(err);
    }
  }
}
