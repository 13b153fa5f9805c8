import { ChildProcess, fork } from 'node:child_process';
import { InvalidArgumentError } from 'commander';

// Measuring helpers shared by the benchmarks (throw-away topics and schema: `createIsolatedEnv`).

/** Peak resident set size of this process: sampled, and the kernel's high-water mark. */
export class RssSampler {
  private peak = 0;
  private timer?: NodeJS.Timeout;
  /** Peaks of the parts Node reports (each at its own moment): V8 heap used / committed, Buffers. */
  readonly parts = { heapUsed: 0, heapTotal: 0, external: 0 };
  /** Label of what runs now; the peak RSS is also kept per label. */
  phase = 'setup';
  readonly byPhase: Record<string, number> = {};

  start(everyMs = 20): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
    return this;
  }

  sample(): number {
    const m = process.memoryUsage();
    if (m.rss > this.peak) this.peak = m.rss;
    this.byPhase[this.phase] = Math.max(this.byPhase[this.phase] ?? 0, m.rss);
    this.parts.heapUsed = Math.max(this.parts.heapUsed, m.heapUsed);
    this.parts.heapTotal = Math.max(this.parts.heapTotal, m.heapTotal);
    this.parts.external = Math.max(this.parts.external, m.external);
    return m.rss;
  }

  /** Bytes; the larger of the samples and `getrusage` maxRSS (which covers the whole process life). */
  peakBytes(): number {
    if (this.timer) clearInterval(this.timer);
    return Math.max(this.peak, process.resourceUsage().maxRSS * 1024);
  }
}

/**
 * Runs this script again as a child (`--child`), with the child's settings in an env variable, and
 * resolves with the one message it sends. The measured component runs there, so its RSS is its own
 * (the sandbox and the harness stay in the parent).
 */
export function runChild<T>(script: string, config: unknown, execArgv: string[] = []): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let result: T | undefined;
    const child: ChildProcess = fork(script, ['--child'], {
      // --expose-gc only lets the child collect its set-up garbage before the clock starts.
      execArgv: ['--expose-gc', ...execArgv],
      env: { ...process.env, BENCH_CHILD_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (message) => {
      result = message as T;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 && result !== undefined
        ? resolve(result)
        : reject(
            new Error(
              `benchmark child exited with ${code}${result === undefined ? ' without a result' : ''}`,
            ),
          ),
    );
  });
}

/** The child side of `runChild`: runs `fn` with the parent's settings and sends back its result. */
export async function answerParent<C, R>(label: string, fn: (config: C) => Promise<R>): Promise<void> {
  try {
    process.send?.(await fn(JSON.parse(process.env.BENCH_CHILD_CONFIG ?? '{}') as C));
  } catch (e) {
    console.error(`${label} child failed: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}

/** Collects garbage left by set-up (when the child runs with --expose-gc), then samples. */
export function settle(rss: RssSampler): number {
  (globalThis as { gc?: () => void }).gc?.();
  return rss.sample();
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
export const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** A `commander` option parser: a non-negative integer. */
export const intArg = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a non-negative integer');
  return n;
};
/** An option's default from the environment variable `name` (a non-negative integer), else `fallback`. */
export const envInt = (name: string, fallback: number): number =>
  process.env[name] !== undefined && process.env[name] !== '' ? intArg(process.env[name]!) : fallback;

/**
 * The fewest seconds `calls` sequential API calls need under a sliding-window limit of `limit` calls
 * per `windowS` seconds (WDT's: at most L calls in every sliding 60 s): each call takes `latencyS`, and
 * call i may start only `windowS` after call i − limit ended. For a burst this beats the sustained rate
 * (L calls go at once), so it is the bound a burst is measured against.
 */
export function slidingWindowSeconds(calls: number, limit: number, latencyS: number, windowS = 60): number {
  const ends: number[] = [];
  let t = 0;
  for (let i = 0; i < calls; i++) {
    t = Math.max(t, i >= limit ? ends[i - limit] + windowS : 0) + latencyS;
    ends.push(t);
  }
  return t;
}
