import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AppLogger, silentLogger } from '@libs/common';
import { SchemeError, formatSchemeIssue } from './scheme.errors';
import { listSchemeFiles, parseScheme, readSchemesDir, type SchemeBaseRead } from './scheme-file.util';
import type { Scheme } from './scheme.schema';

/** What changed in SCHEMES_DIR since the last check, per scheme id. */
export type SchemeChange =
  | { kind: 'added'; id: string; file: string; scheme: Scheme }
  | { kind: 'changed'; id: string; file: string; scheme: Scheme; previous: Scheme }
  | { kind: 'removed'; id: string; file: string; previous: Scheme };

/** A file whose current content is not in use (invalid, or refused by `accept`). */
export interface SchemeFileProblem {
  /** Base name of the file in SCHEMES_DIR (services may mount the directory at different paths). */
  file: string;
  /** The scheme the file held when it was last good, if it ever was. */
  schemeId: string | null;
  error: string;
  /** sha256 of the content the error is about: readers compare it with the file to drop stale reports. */
  sha256: string;
}

/** sha256 (hex) of a scheme file's bytes: the version a problem report or an ETag is about. */
export function schemeContentHash(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface SchemeWatcherOptions {
  dir: string;
  /** Poll period (SCHEME_RELOAD_MS). */
  intervalMs: number;
  logger?: AppLogger;
  /**
   * A service's own veto on a valid file (a mapping that does not compile, an idempotency key change
   * on a scheme with claims): the reason to keep the previous version, or undefined to take it.
   */
  accept?: (next: Scheme, previous: Scheme | undefined) => Promise<string | undefined> | string | undefined;
  /** Told once per change of a file's problem; `error: null` once the file is in use again. */
  onProblem?: (file: string, problem: SchemeFileProblem | null) => Promise<void> | void;
}

interface Known {
  /** mtime + size + inode: an atomic rename or a same-millisecond edit still shows. */
  signature: string;
  sha256: string;
  /** The version in use (the last good one), if any. */
  scheme?: Scheme;
  problem?: SchemeFileProblem;
  /** The base files (`extends`) the last read of this file merged, with the content it saw. */
  bases: SchemeBaseRead[];
}

/** sha256 of a base file now, or null when it cannot be read. */
function baseHash(file: string): string | null {
  try {
    return schemeContentHash(fs.readFileSync(file));
  } catch {
    return null;
  }
}

function signatureOf(stat: fs.Stats): string {
  return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
}

function describe(err: unknown): string {
  if (err instanceof SchemeError) return err.issues.map(formatSchemeIssue).join('\n');
  return (err as Error).message;
}

/**
 * The schemes of SCHEMES_DIR, kept current: every `intervalMs` the files' mtimes are compared and
 * changed files read again. A file that no longer validates (or that `accept` refuses) keeps its last
 * good version, so a typo cannot stop a running pipeline; the problem is logged once per change of
 * the file and handed to `onProblem` (services record it in service_status for /api/schemes).
 * Listeners get added/changed/removed per scheme id, in order, one check at a time.
 */
export class SchemeWatcher {
  private readonly files = new Map<string, Known>();
  private readonly listeners: Array<(changes: SchemeChange[]) => Promise<void> | void> = [];
  private readonly logger: AppLogger;
  private timer?: NodeJS.Timeout;
  private checking?: Promise<SchemeChange[]>;

  constructor(private readonly options: SchemeWatcherOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  /** First load: an invalid file or a duplicate id is an error (configuration is validated at boot). */
  load(): Scheme[] {
    this.files.clear();
    const entries = readSchemesDir(this.options.dir);
    for (const { file, scheme, bases } of entries) {
      const stat = fs.statSync(file);
      const sha256 = schemeContentHash(fs.readFileSync(file));
      this.files.set(file, { signature: signatureOf(stat), sha256, scheme, bases });
    }
    return entries.map((e) => e.scheme);
  }

  /** The schemes in use, in file order. */
  schemes(): Scheme[] {
    return [...this.files.values()].flatMap((k) => (k.scheme ? [k.scheme] : []));
  }

  get(schemeId: string): Scheme | undefined {
    return this.schemes().find((s) => s.id === schemeId);
  }

  /** The file a scheme was read from (absolute or relative as SCHEMES_DIR is given). */
  fileOf(schemeId: string): string | undefined {
    for (const [file, known] of this.files) if (known.scheme?.id === schemeId) return file;
    return undefined;
  }

  /** Files whose current content is not in use, and why. */
  problems(): SchemeFileProblem[] {
    return [...this.files.values()].flatMap((k) => (k.problem ? [k.problem] : []));
  }

  onChange(listener: (changes: SchemeChange[]) => Promise<void> | void): void {
    this.listeners.push(listener);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.check().catch((err: Error) =>
        this.logger.error({ err: err.message }, 'scheme reload check failed'),
      );
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops polling and waits for a check under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.checking?.catch(() => undefined);
  }

  /** One check now (tests, or after a save); concurrent calls share the check under way. */
  check(): Promise<SchemeChange[]> {
    this.checking ??= this.checkOnce().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async checkOnce(): Promise<SchemeChange[]> {
    const { dir } = this.options;
    let present: string[];
    try {
      present = listSchemeFiles(dir);
    } catch (err) {
      // A directory briefly missing (a ConfigMap being swapped) is not "every scheme removed".
      this.logger.warn({ dir, err: (err as Error).message }, 'cannot list SCHEMES_DIR; keeping the schemes');
      return [];
    }
    const changes: SchemeChange[] = [];
    // A base file shared by several schemes is read once per check.
    const baseHashes = new Map<string, string | null>();
    const baseChanged = (known: Known | undefined) =>
      known?.bases.some((b) => {
        if (!baseHashes.has(b.file)) baseHashes.set(b.file, baseHash(b.file));
        return baseHashes.get(b.file) !== b.sha256;
      }) ?? false;
    for (const [file, known] of [...this.files]) {
      if (present.includes(file)) continue;
      this.files.delete(file);
      if (known.problem) await this.setProblem(file, known, undefined);
      if (known.scheme) {
        changes.push({ kind: 'removed', id: known.scheme.id, file, previous: known.scheme });
        this.logger.info({ scheme: known.scheme.id, file }, 'scheme file removed: scheme unloaded');
      }
    }
    for (const file of present) {
      let stat: fs.Stats;
      try {
        stat = fs.statSync(file);
      } catch {
        continue; // removed between listing and stat: the next check sees it gone
      }
      const signature = signatureOf(stat);
      const known = this.files.get(file);
      // A scheme is read again when its file or one of the bases it extends changed.
      const basesChanged = baseChanged(known);
      if (known?.signature === signature && !basesChanged) continue;
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(file);
      } catch {
        continue;
      }
      const sha256 = schemeContentHash(bytes);
      const entry: Known = known ?? { signature, sha256, bases: [] };
      entry.signature = signature;
      // Touched but not changed (an editor saving the same text): nothing to apply or report.
      if (known && known.sha256 === sha256 && !basesChanged) continue;
      entry.sha256 = sha256;
      this.files.set(file, entry);
      const previous = entry.scheme;
      let next: Scheme;
      try {
        const bases: SchemeBaseRead[] = [];
        entry.bases = bases; // kept even when the file does not validate: fixing a base retries it
        next = parseScheme(bytes.toString('utf8'), file, { schemesDir: dir, basesRead: bases });
        const clash = this.schemes().find((s) => s.id === next.id && s !== previous);
        if (clash)
          throw new Error(
            `scheme id "${next.id}" is already used by ${path.basename(this.fileOf(next.id)!)}`,
          );
        const refused = await this.options.accept?.(next, previous?.id === next.id ? previous : undefined);
        if (refused) throw new Error(refused);
      } catch (err) {
        await this.setProblem(file, entry, describe(err));
        continue;
      }
      if (entry.problem) await this.setProblem(file, entry, undefined);
      entry.scheme = next;
      if (!previous) {
        changes.push({ kind: 'added', id: next.id, file, scheme: next });
      } else if (previous.id !== next.id) {
        changes.push({ kind: 'removed', id: previous.id, file, previous });
        changes.push({ kind: 'added', id: next.id, file, scheme: next });
      } else {
        changes.push({ kind: 'changed', id: next.id, file, scheme: next, previous });
      }
      this.logger.info({ scheme: next.id, file }, previous ? 'scheme reloaded' : 'scheme loaded');
    }
    if (changes.length > 0) for (const listener of this.listeners) await listener(changes);
    return changes;
  }

  private async setProblem(file: string, entry: Known, error: string | undefined): Promise<void> {
    if (error === undefined) {
      entry.problem = undefined;
      this.logger.info({ file }, 'scheme file is valid again');
      await this.report(file, null);
      return;
    }
    entry.problem = {
      file: path.basename(file),
      schemeId: entry.scheme?.id ?? null,
      error,
      sha256: entry.sha256,
    };
    this.logger.error(
      { file, scheme: entry.scheme?.id, err: error },
      entry.scheme
        ? 'scheme file not applied; keeping the last good version'
        : 'scheme file not applied; the scheme is not loaded',
    );
    await this.report(file, entry.problem);
  }

  private async report(file: string, problem: SchemeFileProblem | null): Promise<void> {
    try {
      await this.options.onProblem?.(file, problem);
    } catch (err) {
      this.logger.warn({ file, err: (err as Error).message }, 'could not report the scheme file state');
    }
  }
}

/** Whether two versions of a scheme name their bills differently (target.idempotencyKey). */
export function idempotencyKeyChanged(
  previous: { target: Pick<Scheme['target'], 'idempotencyKey'> },
  next: Scheme,
): boolean {
  const a = previous.target.idempotencyKey;
  const b = next.target.idempotencyKey;
  return a.field !== b.field || a.source !== b.source;
}

/**
 * The refusal of an idempotency key change on a scheme that already has bill claims: bills written
 * under the old key would no longer be found, so a retry could write a second bill.
 */
export function idempotencyKeyRefusal(
  // Only the key is read: a key recorded in Postgres (scheme_keys) stands for the version it came from.
  previous: { target: Pick<Scheme['target'], 'idempotencyKey'> },
  next: Scheme,
  claims: number,
): string | undefined {
  if (claims === 0 || !idempotencyKeyChanged(previous, next)) return undefined;
  const a = previous.target.idempotencyKey;
  const b = next.target.idempotencyKey;
  return (
    `target.idempotencyKey of scheme ${next.id} changed (${a.field} ${JSON.stringify(a.source)} → ` +
    `${b.field} ${JSON.stringify(b.source)}) but ${claims} bill claim(s) exist under the old key: bills ` +
    `already written could not be found again and a retry could write a second bill. Keeping the old ` +
    `scheme; create a new scheme (new id) for the new key instead.`
  );
}
