import { z } from 'zod';

export const MALFORMED_KINDS = ['html', 'broken_json', 'missing_list', 'wrong_types', 'empty_body'] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

/** Record- and page-level corruptions a mutating proxy (or a bad WDT node) could cause; see PageCorruptor. */
export const CORRUPTION_KINDS = [
  'null_record',
  'missing_order_no',
  'wrong_type',
  'details_not_array',
  'oversize_record',
  'total_count_mismatch',
  'non_json_page',
] as const;
export type CorruptionKind = (typeof CORRUPTION_KINDS)[number];

const corruptionRule = z.strictObject({
  kind: z.enum(CORRUPTION_KINDS),
  /** order_no or stockout_id of the target record: the record (or the page holding it) is corrupted. */
  order: z.string().min(1),
  /** Fires on this many pages holding the order, then is dropped; absent = every time (persistent). */
  times: z.number().int().min(1).optional(),
  /** oversize_record: characters of padding added to `remark` (default 1 100 000). */
  bytes: z.number().int().min(1).max(20_000_000).optional(),
});
export type CorruptionRule = z.infer<typeof corruptionRule>;

const rate = z.number().min(0).max(1);
const count = z.number().int().min(0);

/** Fault and behaviour knobs, settable at start (options) and at run time (`PATCH /admin/knobs`). */
export const knobsSchema = z.object({
  /** Added latency per gateway call, ms. */
  latencyMs: count,
  /** Share of gateway calls answered with an HTML 5xx page (500/502/503). */
  errorRate: rate,
  /** The next N gateway calls answer 5xx (deterministic; consumed first). */
  errorNext: count,
  /** Share of gateway calls held without an answer. */
  timeoutRate: rate,
  /** The next N gateway calls are held without an answer. */
  timeoutNext: count,
  /** How long a held call is kept before the socket is destroyed; 0 = until the client gives up or the sandbox closes. */
  timeoutHoldMs: count,
  /** Share of successful pages replaced by a malformed one. */
  malformedRate: rate,
  /** The next N successful pages are malformed (cycling through `malformedKinds`). */
  malformedNext: count,
  malformedKinds: z.array(z.enum(MALFORMED_KINDS)).min(1),
  /** Targeted corruptions of records and pages (once / N times / always per order). */
  corruptions: z.array(corruptionRule).max(100),
  /** Native page_size limit (WDT's is unconfirmed; other queries allow 100). */
  nativeMaxPageSize: z.number().int().min(1),
  nativeDefaultPageSize: z.number().int().min(1),
  /** Qimen page_size limit (documented 1–30). */
  qimenMaxPageSize: z.number().int().min(1),
  /**
   * Both gateways: a larger page_size is silently served at this size (pages are cut at it, no error),
   * as a server that caps the page size would; 0 = no cap.
   */
  maxPageSize: count,
  /** Calls per sid and gateway in every sliding `rateLimitWindowMs`; 0 = unlimited. */
  callsPerMinute: count,
  rateLimitWindowMs: z.number().int().min(1),
  /**
   * Calls per app key (a native appkey, or a Qimen app key across all its sids) in every sliding
   * `rateLimitWindowMs`, for app keys without an entry in `appKeyLimits`; 0 = unlimited.
   */
  appKeyCallsPerMinute: count,
  /** Limit per app key (overrides `appKeyCallsPerMinute`; 0 = unlimited). A patch replaces the whole map. */
  appKeyLimits: z.record(z.string().min(1), count),
  /** Allowed clock skew of `timestamp`, seconds. */
  nativeMaxSkewSeconds: count,
  qimenMaxSkewSeconds: count,
  /** Maximum window span, days. */
  maxWindowDays: z.number().positive(),
  /** `documented`: status absent or ≥ 95 → consign_time, < 95 → modified. Or force one axis. */
  timeAxis: z.enum(['documented', 'modified', 'consign_time']),
  /** Native `total_count` as a string (as WDT does) or a number. */
  nativeCountsAsStrings: z.boolean(),
  /** Seed of the PRNG behind the *Rate knobs (deterministic fault sequences). */
  faultSeed: z.number().int(),
});

export type SandboxKnobs = z.infer<typeof knobsSchema>;

export const DEFAULT_KNOBS: Readonly<SandboxKnobs> = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  errorNext: 0,
  timeoutRate: 0,
  timeoutNext: 0,
  timeoutHoldMs: 0,
  malformedRate: 0,
  malformedNext: 0,
  malformedKinds: [...MALFORMED_KINDS],
  corruptions: [],
  nativeMaxPageSize: 100,
  nativeDefaultPageSize: 40,
  qimenMaxPageSize: 30,
  maxPageSize: 0,
  callsPerMinute: 60,
  rateLimitWindowMs: 60_000,
  appKeyCallsPerMinute: 0,
  appKeyLimits: {},
  nativeMaxSkewSeconds: 300,
  qimenMaxSkewSeconds: 600,
  maxWindowDays: 30,
  timeAxis: 'documented',
  nativeCountsAsStrings: true,
  faultSeed: 20_260_101,
});

export class KnobValidationError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'KnobValidationError';
  }
}

/** Validates a partial knob update and returns the merged knobs. */
export function mergeKnobs(current: SandboxKnobs, patch: unknown): SandboxKnobs {
  const parsed = knobsSchema.partial().strict().safeParse(patch);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field =
      issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(',') : '(body)');
    throw new KnobValidationError(`invalid knob ${field}: ${issue.message}`, field);
  }
  const definedEntries = Object.entries(parsed.data).filter(([, value]) => value !== undefined);
  return { ...current, ...Object.fromEntries(definedEntries) } as SandboxKnobs;
}

/** mulberry32: small seeded PRNG so fault sequences are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export type Fault = { type: 'http_5xx'; status: number } | { type: 'timeout' } | { type: 'none' };

/** Decides faults from the knobs; "next N" counters are consumed before rates are rolled. */
export class FaultInjector {
  private random: () => number;
  private malformedCycle = 0;
  private seed: number;

  constructor(private readonly knobs: () => SandboxKnobs) {
    this.seed = knobs().faultSeed;
    this.random = seededRandom(this.seed);
  }

  private roll(): number {
    const seed = this.knobs().faultSeed;
    if (seed !== this.seed) {
      this.seed = seed;
      this.random = seededRandom(seed);
    }
    return this.random();
  }

  /** Fault for an incoming gateway call (before it is processed). */
  beforeCall(consume: (patch: Partial<SandboxKnobs>) => void): Fault {
    const k = this.knobs();
    if (k.errorNext > 0) {
      consume({ errorNext: k.errorNext - 1 });
      return { type: 'http_5xx', status: this.pickStatus() };
    }
    if (k.timeoutNext > 0) {
      consume({ timeoutNext: k.timeoutNext - 1 });
      return { type: 'timeout' };
    }
    if (k.errorRate > 0 && this.roll() < k.errorRate) return { type: 'http_5xx', status: this.pickStatus() };
    if (k.timeoutRate > 0 && this.roll() < k.timeoutRate) return { type: 'timeout' };
    return { type: 'none' };
  }

  /** Malformation for a successful page, or undefined. */
  malformation(consume: (patch: Partial<SandboxKnobs>) => void): MalformedKind | undefined {
    const k = this.knobs();
    let hit = false;
    if (k.malformedNext > 0) {
      consume({ malformedNext: k.malformedNext - 1 });
      hit = true;
    } else if (k.malformedRate > 0 && this.roll() < k.malformedRate) {
      hit = true;
    }
    if (!hit) return undefined;
    const kind = k.malformedKinds[this.malformedCycle % k.malformedKinds.length];
    this.malformedCycle += 1;
    return kind;
  }

  private pickStatus(): number {
    const statuses = [502, 500, 503];
    return statuses[Math.floor(this.roll() * statuses.length)];
  }
}
