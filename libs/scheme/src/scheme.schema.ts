import { z } from 'zod';

/**
 * The integration scheme: one declarative file (YAML or JSON) read by the extractor (`source`,
 * `schedule`), the transformer (`mapping`, `valueMaps`, `preconditions`) and the loader (`target`,
 * `retry`). This file holds the *shape* (zod, strict objects: unknown keys are errors). Rules that
 * need more than shape — formulas compile, templates parse, value maps exist, cron parses,
 * consistency between sections — live in `scheme-semantics.util.ts`.
 */

/** Field value types; see `field-types.util.ts` for the exact conversion rules. */
export const FIELD_TYPES = ['string', 'ref', 'decimal', 'integer', 'date', 'datetime', 'boolean'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** Record keys a template, target or precondition path may never name (prototype pollution). */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

// Identifiers never name __proto__ / constructor / prototype (lookaheads keep this in the JSON Schema too).
const NOT_FORBIDDEN = '(?!(?:__proto__|constructor|prototype)(?:\\.|$))';
const IDENT = new RegExp(`^${NOT_FORBIDDEN}[A-Za-z_][A-Za-z0-9_]*$`);
const DOTTED = new RegExp(
  `^${NOT_FORBIDDEN}[A-Za-z_][A-Za-z0-9_]*(?:\\.${NOT_FORBIDDEN}[A-Za-z_][A-Za-z0-9_]*)*$`,
);
/** `250ms`, `5s`, `10m`, `1h30m`, `3d`, `2w`. */
export const DURATION_PATTERN = /^(\d+(ms|s|m|h|d|w))+$/;

const identifier = z.string().regex(IDENT, { error: 'must be an identifier like FBillNo or details_list' });
const dottedPath = z
  .string()
  .regex(DOTTED, { error: 'must be a dotted path of identifiers like FPURMRBFIN.FSettleOrgId' });
const duration = z
  .string()
  .regex(DURATION_PATTERN, { error: 'must be a duration like 250ms, 5s, 10m, 1h30m, 3d' });
const scalar = z.union([z.string(), z.number(), z.boolean()], {
  error: 'must be a string, number or boolean',
});
const nonEmptyString = z.string().min(1, { error: 'must not be empty' });

export const FieldSpecSchema = z.strictObject({
  /** `{{path}}` placeholders, may be mixed with text. Exactly one of template / const / formula. */
  template: z
    .string()
    .describe(
      'Text with {{path}} placeholders; {{order_no}} alone keeps the raw value. Inside entries {{<source>.x}} reads the current line.',
    )
    .optional(),
  const: scalar.describe('A constant value.').optional(),
  /** JSONata expression; the record is the input, `$line`/`$lineIndex` are bound inside entries. */
  formula: z
    .string()
    .describe('JSONata expression; input is the record, $line / $lineIndex inside entries.')
    .optional(),
  type: z
    .enum(FIELD_TYPES)
    .describe('string | ref ({"FNumber": v}) | decimal | integer | date | datetime | boolean')
    .default('string'),
  valueMap: identifier.describe('Name of a value map under valueMaps, applied before the type.').optional(),
  required: z
    .boolean()
    .describe('An empty value fails the record instead of omitting the field.')
    .default(false),
  /** Dotted target path overriding the key, e.g. `FPURMRBFIN.FSettleOrgId`. */
  target: dottedPath.describe('Target path overriding the key, e.g. FPURMRBFIN.FSettleOrgId.').optional(),
  /** Longest accepted text (characters) for string/ref values; default 2000. */
  maxLength: z.number().int().min(1).max(1_000_000).optional(),
  /** decimal/integer only: the value must be > 0. */
  positive: z.boolean().optional(),
  /** Personal data: masked where operators read request bodies (fields reading receiver_* are too). */
  pii: z.boolean().describe('The value is personal data: masked in operator views.').optional(),
  description: z.string().optional(),
});
export type FieldSpec = z.output<typeof FieldSpecSchema>;

const fieldMap = z.record(identifier, FieldSpecSchema);

export const EntrySpecSchema = z.strictObject({
  /** Target path of the entry array in the model, e.g. `FPURMRBENTRY`. */
  path: dottedPath.describe('Target path of the entry array, e.g. FPURMRBENTRY.'),
  /** Record array iterated, one entry per element; `{{<source>.x}}` reads the current line. */
  source: identifier.describe('Record array iterated, one entry per element, e.g. details_list.'),
  /** Other names the same array may arrive under (the seed's response table says `detail_list`). */
  sourceAliases: z.array(identifier).describe('Other names the same array may arrive under.').optional(),
  fields: fieldMap,
  description: z.string().optional(),
});
export type EntrySpec = z.output<typeof EntrySpecSchema>;

export const ValueMapSchema = z.strictObject({
  /** fail: a miss dead-letters the record; passthrough: the source value is used; default: `default`. */
  onMissing: z
    .enum(['fail', 'passthrough', 'default'])
    .describe('What a value not in entries does: fail the record, pass it through, or use default.')
    .default('fail'),
  default: scalar.optional(),
  entries: z.record(z.string(), scalar).default({}),
  description: z.string().optional(),
});
export type ValueMap = z.output<typeof ValueMapSchema>;

const preconditionValue = z.union([z.string(), z.number()], { error: 'must be a string or number' });

/**
 * A precondition is either a JSONata `formula` (true = qualifies) or a declarative check on one
 * record `field` with exactly one operator. Declarative checks never touch JSONata.
 */
export const PreconditionSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'must be a short name like shipped-or-completed' }),
  description: z.string().optional(),
  /** Why a record is skipped; may contain `{{path}}` placeholders of the record. */
  reason: z
    .string()
    .describe('Why a record is skipped; {{path}} placeholders of the record allowed.')
    .optional(),
  formula: z.string().describe('JSONata expression; true = the record qualifies.').optional(),
  field: dottedPath
    .describe('Record path checked by the one operator given (in, notIn, equals, …).')
    .optional(),
  in: z.array(preconditionValue).min(1).optional(),
  notIn: z.array(preconditionValue).min(1).optional(),
  equals: preconditionValue.optional(),
  notEquals: preconditionValue.optional(),
  exists: z.boolean().optional(),
  nonEmpty: z.boolean().optional(),
  minItems: z.number().int().min(0).optional(),
});
export type Precondition = z.output<typeof PreconditionSchema>;

export const PRECONDITION_OPERATORS = [
  'in',
  'notIn',
  'equals',
  'notEquals',
  'exists',
  'nonEmpty',
  'minItems',
] as const;

export const WDT_STATUSES = ['5', '50', '55', '95', '110'] as const;

/** A connection's name (connections file or the implicit `default` from the environment). */
export const CONNECTION_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const connectionName = z.string().regex(CONNECTION_NAME_PATTERN, {
  error: 'must be a connection name (a-z, 0-9, -; 1–63 chars, not starting with -)',
});

export const SourceSchema = z.strictObject({
  system: z.literal('wdt'),
  /** The WDT connection (shop / sid) read; `default` is the one from the WDT_* environment variables. */
  connection: connectionName
    .describe('Name of the WDT connection (sid) read; default: the WDT_* environment variables.')
    .default('default'),
  /** Omitted: the deployment's default gateway (environment). */
  gateway: z.enum(['qimen', 'native']).optional(),
  method: z
    .string()
    .regex(/^wdt\.[a-z0-9_.]+$/, { error: 'must be a WDT method like wdt.stockout.order.query.return' }),
  /** Business params sent as is; values may use {{PAGINATION_PAGE_SIZE}}, {{LAST_SYNC_TIME}}, {{CURRENT_TIME}}. */
  params: z.record(identifier, z.string()).default({}),
  filters: z
    .strictObject({
      warehouse_no: z.array(nonEmptyString).min(1).optional(),
      /** Absent: WDT returns shipped + completed on the consign-time axis. */
      status: z.enum(WDT_STATUSES).optional(),
      src_order_no: nonEmptyString.optional(),
      outer_no: nonEmptyString.optional(),
      stockout_no: nonEmptyString.optional(),
    })
    .default({}),
  /** Records per WDT page. Omitted: by gateway, native 100, Qimen 30 (`pageSizeOf`). Qimen allows ≤ 30. */
  pageSize: z.number().int().min(1).max(100).optional(),
  cursor: z
    .strictObject({
      axis: z.enum(['auto', 'consign_time', 'modified']).default('auto'),
      /** The frequent poll reads from cursor − overlap (records written late at the edge). */
      overlap: duration.default('30s'),
      /** Depth of the slower lookback re-read (late records the frequent poll missed). */
      lookback: duration.default('10m'),
      /** Cadence of the lookback re-read (background priority, same WDT budget). */
      lookbackInterval: duration.default('60s'),
      /** The poll reads up to now − safetyLag (WDT may still be writing the latest second). */
      safetyLag: duration.default('1s'),
      maxWindow: duration.default('30d'),
      /** Shanghai wall-clock `yyyy-MM-dd HH:mm:ss` where a fresh cursor starts. */
      initial: z.string().optional(),
    })
    .prefault({}),
  pageOrder: z.enum(['last_to_first', 'first_to_last']).default('last_to_first'),
  reconciliation: z.strictObject({ period: duration, cron: z.string() }).optional(),
});
export type SchemeSource = z.output<typeof SourceSchema>;

/** BatchSave/Save `data` options (Kingdee names). Unknown keys are rejected to catch typos. */
export const RequestOptionsSchema = z.strictObject({
  IsAutoSubmitAndAudit: z.boolean().optional(),
  IsVerifyBaseDataField: z.boolean().optional(),
  SubSystemId: z.string().optional(),
  NeedUpDateFields: z.array(z.string()).optional(),
  NeedReturnFields: z.array(z.string()).optional(),
  IsDeleteEntry: z.boolean().optional(),
  IsEntryBatchFill: z.boolean().optional(),
  ValidateFlag: z.boolean().optional(),
  NumberSearch: z.boolean().optional(),
  IsAutoAdjustField: z.boolean().optional(),
  InterationFlags: z.string().optional(),
  IgnoreInterationFlag: z.boolean().optional(),
  IsControlPrecision: z.boolean().optional(),
  ValidateRepeatJson: z.boolean().optional(),
  BatchCount: z.number().int().min(1).max(100).optional(),
});
export type RequestOptions = z.output<typeof RequestOptionsSchema>;

export const TargetSchema = z.strictObject({
  system: z.literal('kingdee'),
  /** The Kingdee connection (account set) written; `default` is the one from the KINGDEE_* variables. */
  connection: connectionName
    .describe(
      'Name of the Kingdee connection (account set) written; default: the KINGDEE_* environment variables.',
    )
    .default('default'),
  formId: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, { error: 'must be a Kingdee form id like PUR_MRB' }),
  operation: z.enum(['BatchSave', 'Save']).default('BatchSave'),
  requestOptions: RequestOptionsSchema.default({}),
  /** auto: IsAutoSubmitAndAudit in the save call; separate: Save → Submit → Audit. */
  submitMode: z
    .enum(['auto', 'separate'])
    .describe('auto: IsAutoSubmitAndAudit in the save call; separate: Save → Submit → Audit.')
    .default('auto'),
  /** The model field Kingdee keeps (queried with ExecuteBillQuery) and the record template filling it. */
  idempotencyKey: z
    .strictObject({ field: identifier, source: z.string() })
    .describe('The model field Kingdee keeps (queried before any retry) and the record template filling it.'),
  onChangedAfterLoad: z.enum(['ignore', 'record']).default('record'),
  /**
   * Whether this Kingdee account refuses a second bill with an existing FBillNo. `enforced` (with
   * the key on FBillNo) lets the loader write again after an empty look-up once client timeout +
   * server execution timeout have passed; `unknown` waits for the settle window.
   */
  uniqueBillNo: z
    .enum(['enforced', 'unknown'])
    .describe(
      'enforced: Kingdee refuses a second bill with an existing FBillNo (rewrite after client + server timeouts); unknown: wait for the settle window.',
    )
    .default('unknown'),
  /**
   * `always`: one batched look-up of its keys before each BatchSave, so lost claim rows (a database
   * restored from a backup) cannot cause a second bill; `after-ambiguity`: only where an earlier
   * attempt's outcome is unknown.
   */
  lookupBeforeWrite: z
    .enum(['always', 'after-ambiguity'])
    .describe(
      'always: look the keys up before every BatchSave; after-ambiguity: only after an unknown outcome.',
    )
    .default('after-ambiguity'),
  batchSize: z.number().int().min(1).max(200).default(20),
  /** Key of base-data objects: `{"FNumber": "…"}` (some servers also accept FNUMBER). */
  refKey: z.enum(['FNumber', 'FNUMBER']).default('FNumber'),
});
export type SchemeTarget = z.output<typeof TargetSchema>;

export const SchemeSchema = z.strictObject({
  /** JSON files may point editors at `scheme.schema.json`. */
  $schema: z.string().optional(),
  /**
   * A base file this scheme is merged onto (relative to this file, inside SCHEMES_DIR, e.g.
   * `bases/pur-mrb.base.yaml`): objects deep-merged, arrays and scalars replaced, this file's keys win.
   */
  extends: z
    .string()
    .describe(
      'Base file merged under this scheme (relative path inside the schemes directory, e.g. bases/pur-mrb.base.yaml): objects merged, arrays and scalars replaced, this file wins.',
    )
    .optional(),
  version: z.literal(1).default(1),
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{2,99}$/, { error: 'must be kebab-case (a-z, 0-9, -), 3–100 chars' }),
  name: nonEmptyString,
  description: z.string().optional(),
  /** 是否启动 */
  enabled: z.boolean().describe('是否启动: whether the scheme runs.').default(true),
  /** 重试次数: the loader's retries of transient failures. */
  retry: z
    .strictObject({
      count: z.number().int().min(0).max(20).default(3),
      initialDelay: duration.default('1s'),
      maxDelay: duration.default('1m'),
    })
    .prefault({}),
  /** 传递时间: how often to poll, optionally gated by a cron expression (evaluated in `timezone`). */
  schedule: z
    .strictObject({
      pollInterval: duration.default('2s'),
      transferTime: z.string().optional(),
      timezone: z.string().default('Asia/Shanghai'),
    })
    .prefault({}),
  source: SourceSchema,
  target: TargetSchema,
  mapping: z.strictObject({
    header: fieldMap,
    entries: z.array(EntrySpecSchema).default([]),
  }),
  valueMaps: z.record(identifier, ValueMapSchema).default({}),
  /** 前置条件: evaluated in order before mapping; the first failing one skips the record. */
  preconditions: z.array(PreconditionSchema).default([]),
  /**
   * 对账: the nightly reconciliation of WDT orders against Kingdee bills (apps/reconciler). Not the
   * extractor's re-read sweep (`source.reconciliation`), which only re-emits changed orders.
   */
  reconcile: z
    .strictObject({
      /** Whether the worker runs the nightly schedule (runs requested by hand work either way). */
      enabled: z.boolean().default(true),
      /** When the nightly run starts, in `schedule.timezone` (default 04:00, a quiet hour). */
      cron: z.string().default('0 4 * * *'),
      /** Full calendar days before the day the cron fires that one nightly run covers. */
      days: z.number().int().min(1).max(31).default(1),
      /** The Kingdee date field the period filters bills on (the field `consign_time` maps to). */
      dateField: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9_]*$/, { error: 'must be a Kingdee field key like FDate' })
        .default('FDate'),
      /**
       * Extra ExecuteBillQuery FilterString AND-ed to the period query, so bills this scheme does not
       * own (other bill types, another channel) are not reported as extra, e.g. `FBillTypeID.FNumber = 'TLD01_SYS'`.
       */
      targetFilter: z.string().optional(),
    })
    .prefault({}),
});

/** A validated scheme (defaults applied). */
export type Scheme = z.output<typeof SchemeSchema>;
/** What a scheme file may contain (defaults not yet applied). */
export type SchemeInput = z.input<typeof SchemeSchema>;
