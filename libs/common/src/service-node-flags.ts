/**
 * Node command-line flags each service runs with, the same in the image's commands (docker-compose.yml,
 * deploy/k8s), the dev stack and the benchmarks (a spec checks the manifests against this table).
 *
 * The extractor runs with `--optimize-for-size`: V8 then grows the old generation by a smaller factor
 * and collects sooner. Without it an uncapped extractor lets the promoted garbage of every page (a page
 * waits on Kafka and Postgres, so its objects outlive a scavenge) pile up to ~100 MB of heap before the
 * first mark-compact, ~210 MB RSS at 2,000 orders, although under 40 MB is live. With it the peak stays
 * under the 150 MB goal without a heap cap, for ~1.5 CPU-seconds more per 2,000 orders (measured in
 * docs/benchmarks.md) — cheap for a service that waits on a rate-limited API. It is not a heap cap: the
 * heap still grows as far as the live set needs. Node refuses this flag in NODE_OPTIONS, so it is part of
 * the command. The other services are CPU-bound at their peak (the loader's scaling) and keep V8's default.
 */
export const SERVICE_NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  extractor: ['--optimize-for-size'],
};

/** The flags for one service (none unless the table lists it). */
export function serviceNodeFlags(service: string): string[] {
  return [...(SERVICE_NODE_FLAGS[service] ?? [])];
}

/**
 * V8 heap cap (MB) per service, given as NODE_OPTIONS by the manifests, compose and the dev stack.
 * Rule: the peak V8 heap used, measured uncapped (docs/benchmarks.md, "Heap per service"), × 1.5,
 * rounded up to a multiple of 32, at least 96. The container memory limit follows: heap cap + 128 MB
 * for code, Buffers and native memory, and at least 1.3 × the measured peak RSS.
 */
export const SERVICE_HEAP_MB: Readonly<Record<string, number>> = {
  extractor: 96,
  transformer: 128,
  loader: 128,
  'audit-writer': 96,
  operator: 128,
  reconciler: 128,
};

/** The container memory limit (MiB) per service, from the same measurement. */
export const SERVICE_MEMORY_LIMIT_MI: Readonly<Record<string, number>> = {
  extractor: 224,
  transformer: 256,
  loader: 256,
  'audit-writer': 224,
  operator: 256,
  reconciler: 256,
};

/** NODE_OPTIONS for one service: its heap cap (96 MB for anything the table does not list). */
export function serviceNodeOptions(service: string): string {
  return `--max-old-space-size=${SERVICE_HEAP_MB[service] ?? 96}`;
}
