import { Presets, SingleBar } from 'cli-progress';

export type ProgressFields = Record<string, string | number>;

export interface CliProgressOptions {
  /** `backfill s1`, `replay transform`: starts every plain line. */
  label: string;
  /** The plain line after the label: `window 3/10, 120 records`. */
  describe: (done: number, total: number, fields: ProgressFields) => string;
  /** cli-progress format for a terminal; `{label}` and the fields are filled in. */
  barFormat: string;
  /** Default: a bar only when stdout and stderr (where the bar draws) are terminals. */
  tty?: boolean;
  /** Plain mode: at most one line per interval, plus the first and the last. Default 5 s. */
  intervalMs?: number;
  write?: (line: string) => void;
}

/**
 * Progress for a CLI: a bar on a terminal; off a terminal (a pipe, a log file, CI) plain lines
 * such as `backfill s1: window 3/10, 120 records` — cli-progress there prints its format with the
 * placeholders unfilled and `ETA INFs`.
 */
export class CliProgress {
  private bar?: SingleBar;
  private lastLineAt = 0;
  private last?: { done: number; total: number; fields: ProgressFields };
  private printed?: string;
  private readonly tty: boolean;

  constructor(private readonly options: CliProgressOptions) {
    this.tty = options.tty ?? Boolean(process.stdout.isTTY && process.stderr.isTTY);
  }

  update(done: number, total: number, fields: ProgressFields = {}): void {
    this.last = { done, total, fields };
    if (this.tty) {
      if (!this.bar) {
        this.bar = new SingleBar(
          { format: this.options.barFormat, hideCursor: true, etaBuffer: 20 },
          Presets.shades_classic,
        );
        this.bar.start(total, done, { label: this.options.label, ...fields });
      }
      this.bar.setTotal(total);
      this.bar.update(done, fields);
      return;
    }
    const now = Date.now();
    if (
      this.printed !== undefined &&
      done < total &&
      now - this.lastLineAt < (this.options.intervalMs ?? 5000)
    )
      return;
    this.print();
    this.lastLineAt = now;
  }

  /** Ends the bar, or prints the final state if the last plain line did not show it. */
  stop(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
    } else if (!this.tty && this.last) this.print();
  }

  private print(): void {
    if (!this.last) return;
    const line = `${this.options.label}: ${this.options.describe(this.last.done, this.last.total, this.last.fields)}`;
    if (line === this.printed) return;
    this.printed = line;
    (this.options.write ?? ((l: string) => process.stdout.write(`${l}\n`)))(line);
  }
}
