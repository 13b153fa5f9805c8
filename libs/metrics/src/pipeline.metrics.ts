import {
  Counter,
  CounterConfiguration,
  Gauge,
  GaugeConfiguration,
  Histogram,
  HistogramConfiguration,
  register,
} from 'prom-client';

/**
 * Every metric the services expose besides prom-client's default process metrics, defined once and
 * registered on the default registry (served at `/metrics` by the runtime's HealthController).
 * Names do not carry the service: a stage, gateway or consumer group label says where a value comes
 * from, and the scraper adds job/instance. Label values are bounded (stages, outcomes, error classes,
 * service names, partitions); never an order number or anything from a record.
 */

export type PipelineStage = 'extractor' | 'transformer' | 'loader';

export type RecordOutcome =
  | 'in'
  | 'document'
  | 'skipped'
  | 'dead_lettered'
  | 'loaded'
  | 'failed'
  | 'duplicate'
  | 'changed_after_load'
  | 'emitted'
  | 'unchanged'
  | 'parked'
  | 'settling'
  | 'saved_not_audited'
  | 'waiting_base_data'
  | 'conflict_in_erp'
  | 'duplicate_in_erp'
  | 'free'
  | 'writing';

/** Reuses a metric already registered under the name (a second copy of this module, e.g. in tests). */
function counter<T extends string>(config: CounterConfiguration<T>): Counter<T> {
  return (register.getSingleMetric(config.name) as Counter<T> | undefined) ?? new Counter(config);
}
function histogram<T extends string>(config: HistogramConfiguration<T>): Histogram<T> {
  return (register.getSingleMetric(config.name) as Histogram<T> | undefined) ?? new Histogram(config);
}
function gauge<T extends string>(config: GaugeConfiguration<T>): Gauge<T> {
  return (register.getSingleMetric(config.name) as Gauge<T> | undefined) ?? new Gauge(config);
}

const API_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];
const SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

export const pipelineRecords = counter({
  name: 'pipeline_records_total',
  help: 'Records per pipeline stage and outcome (in = received; the rest say what became of them)',
  labelNames: ['stage', 'outcome'] as const,
});

export const pipelineErrors = counter({
  name: 'pipeline_errors_total',
  help: 'Errors per pipeline stage by error class (error code, else the error name)',
  labelNames: ['stage', 'error_class'] as const,
});

export const pipelineBatchSize = histogram({
  name: 'pipeline_batch_size',
  help: 'Records per unit of work: consumed batch (transformer, loader) or extraction window (extractor)',
  labelNames: ['stage'] as const,
  buckets: SIZE_BUCKETS,
});

export const loaderBatchSaveSize = histogram({
  name: 'loader_batch_save_size',
  help: 'Models per Kingdee BatchSave call, by scheme',
  labelNames: ['scheme'] as const,
  buckets: SIZE_BUCKETS,
});

export const wdtApiRequestDuration = histogram({
  name: 'wdt_api_request_duration_seconds',
  help: 'WDT HTTP attempts (rate-limiter wait excluded, response parsing included) by gateway and outcome (ok or the WDT error kind)',
  labelNames: ['gateway', 'outcome', 'connection'] as const,
  buckets: API_BUCKETS,
});

export const kingdeeApiRequestDuration = histogram({
  name: 'kingdee_api_request_duration_seconds',
  help: 'Kingdee HTTP exchanges by service (e.g. DynamicFormService.BatchSave) and outcome (ok or the Kingdee error kind)',
  labelNames: ['service', 'outcome', 'connection'] as const,
  buckets: API_BUCKETS,
});

export const kafkaConsumerLag = gauge({
  name: 'kafka_consumer_lag',
  help: 'Messages behind the partition high watermark: committed offsets read from the broker on a timer (CONSUMER_LAG_INTERVAL_MS) and after each processed chunk',
  labelNames: ['group', 'topic', 'partition'] as const,
});

export const extractorCursorAge = gauge({
  name: 'extractor_cursor_age_seconds',
  help: "How far the scheme's extraction cursor was behind the clock at its last poll (failed and paused polls included)",
  labelNames: ['scheme'] as const,
});

const LOADER_CIRCUIT: GaugeConfiguration<'connection'> = {
  name: 'loader_kingdee_circuit_open',
  help: '1 while loading through a Kingdee connection is paused because it fails as a whole (down, auth, throttled)',
  labelNames: ['connection'],
};
/** Registered on first use: only the loader exposes it (other services would show 0). */
let loaderKingdeeCircuitOpen: Gauge<'connection'> | undefined;

const EXTRACTOR_LEADER: GaugeConfiguration<'scheme'> = {
  name: 'extractor_leader',
  help: '1 while this extractor replica leads the scheme (polls WDT), 0 while it stands by because another replica of the deployment does',
  labelNames: ['scheme'],
};
/** Registered on first use: only the extractor exposes it. */
let extractorLeader: Gauge<'scheme'> | undefined;

const LOADER_TAKE_OVERS: CounterConfiguration<string> = {
  name: 'loader_claims_taken_over_total',
  help: 'Bill claims this loader took over because their owner stopped renewing its lease (killed, partitioned)',
};
let loaderTakeOvers: Counter | undefined;

// ---- recording functions ------------------------------------------------------------------------

/** Adds `count` records of `outcome` (0 is recorded too, so the series exists from the first batch). */
export function countRecords(stage: PipelineStage, outcome: RecordOutcome, count = 1): void {
  if (count >= 0) pipelineRecords.inc({ stage, outcome }, count);
}

const SAFE_CLASS = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * The class of an error as a bounded label value: its `code` (e.g. `KD_TIMEOUT`, a mapping error
 * code) when it has a short token one, else its name — like the `errorClass` of dead letters.
 */
export function errorClassOf(error: unknown): string {
  if (!(error instanceof Error)) return 'UnknownError';
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code === 'string' && SAFE_CLASS.test(code)) return code;
  return SAFE_CLASS.test(error.name) ? error.name : 'Error';
}

export function countError(stage: PipelineStage, error: unknown): void {
  countErrorClass(stage, errorClassOf(error));
}

export function countErrorClass(stage: PipelineStage, errorClass: string, count = 1): void {
  const label = SAFE_CLASS.test(errorClass) ? errorClass : 'Error';
  pipelineErrors.inc({ stage, error_class: label }, count);
}

export function observeBatchSize(stage: PipelineStage, size: number): void {
  pipelineBatchSize.observe({ stage }, size);
}

export function observeBatchSaveSize(scheme: string, size: number): void {
  loaderBatchSaveSize.observe({ scheme }, size);
}

/** `ok`, or the `kind` of the error (WdtError, KingdeeError), else `error`. */
function outcomeOf(error: unknown): string {
  const kind = (error as { kind?: unknown } | null)?.kind;
  return typeof kind === 'string' && SAFE_CLASS.test(kind) ? kind : 'error';
}

async function timed<T>(
  metric: Histogram<string>,
  labels: Record<string, string>,
  call: () => Promise<T>,
): Promise<T> {
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  try {
    const result = await call();
    metric.observe({ ...labels, outcome: 'ok' }, seconds());
    return result;
  } catch (error) {
    metric.observe({ ...labels, outcome: outcomeOf(error) }, seconds());
    throw error;
  }
}

/**
 * Times one WDT HTTP attempt; the result or error passes through unchanged. `connection` (the
 * connection's name, when the caller knows it) labels the series.
 */
export function observeWdtRequest<T>(
  gateway: string,
  call: () => Promise<T>,
  connection?: string,
): Promise<T> {
  return timed(wdtApiRequestDuration, { gateway, ...(connection ? { connection } : {}) }, call);
}

/** Times one Kingdee HTTP exchange; the result or error passes through unchanged. */
export function observeKingdeeRequest<T>(
  service: string,
  call: () => Promise<T>,
  connection?: string,
): Promise<T> {
  return timed(kingdeeApiRequestDuration, { service, ...(connection ? { connection } : {}) }, call);
}

const CONNECTION_UP: GaugeConfiguration<'kind' | 'connection'> = {
  name: 'connection_up',
  help: "1 while a WDT or Kingdee connection works as this instance sees it (its schemes' polls, the login check, the circuit), 0 while it fails",
  labelNames: ['kind', 'connection'],
};
/** Registered on first use: the services that use connections expose it. */
let connectionUp: Gauge<'kind' | 'connection'> | undefined;

export function setConnectionUp(kind: string, connection: string, up: boolean): void {
  connectionUp ??= gauge(CONNECTION_UP);
  connectionUp.set({ kind, connection }, up ? 1 : 0);
}

/** Lag of one partition: high watermark − (last processed offset + 1), never negative. */
export function setConsumerLag(
  group: string,
  topic: string,
  partition: number,
  highWatermark: string,
  lastOffset: string,
): void {
  let lag: bigint;
  try {
    lag = BigInt(highWatermark) - (BigInt(lastOffset) + 1n);
  } catch {
    return; // not numeric (never from kafkajs): leave the last value
  }
  kafkaConsumerLag.set({ group, topic, partition: String(partition) }, Number(lag < 0n ? 0n : lag));
}

/**
 * Sets a scheme's cursor age from its position and the poller's clock (both epoch ms). Set on every
 * poll, not computed at scrape time: a replica that lost the leader lease stops polling and must not
 * report an ever-growing age for a cursor another replica is moving.
 */
export function recordExtractorCursor(scheme: string, cursorMs: number, nowMs: number): void {
  extractorCursorAge.set({ scheme }, Math.max(0, (nowMs - cursorMs) / 1000));
}

export function setExtractorLeader(scheme: string, leader: boolean): void {
  extractorLeader ??= gauge(EXTRACTOR_LEADER);
  extractorLeader.set({ scheme }, leader ? 1 : 0);
}

export function setKingdeeCircuitOpen(open: boolean, connection = 'default'): void {
  loaderKingdeeCircuitOpen ??= gauge(LOADER_CIRCUIT);
  loaderKingdeeCircuitOpen.set({ connection }, open ? 1 : 0);
}

export function countTakeOvers(count: number): void {
  loaderTakeOvers ??= counter(LOADER_TAKE_OVERS);
  loaderTakeOvers.inc(count);
}

const WDT_RATE_LIMIT = {
  name: 'wdt_rate_limit_calls_per_minute',
  help: 'Effective WDT client limit (calls per sliding 60 s) per limiter key: the configured L, less after a "too frequent" reply',
  labelNames: ['key'] as const,
};
let wdtRateLimit: Gauge<'key'> | undefined;

export function setWdtRateLimit(key: string, callsPerMinute: number): void {
  wdtRateLimit ??= gauge(WDT_RATE_LIMIT);
  wdtRateLimit.set({ key }, callsPerMinute);
}

const EXTRACTOR_LATE_RECORDS = {
  name: 'extractor_late_records_total',
  help: 'Records the lookback re-read emitted (new or changed) that the frequent poll had not emitted',
  labelNames: ['scheme'] as const,
};
let extractorLateRecords: Counter<'scheme'> | undefined;

export function countLateRecords(scheme: string, count: number): void {
  extractorLateRecords ??= counter(EXTRACTOR_LATE_RECORDS);
  extractorLateRecords.inc({ scheme }, count);
}
