import { AppLogger, silentLogger } from '@libs/common';
import { compileScheme, CompiledMapping } from '@libs/mapping';
import { Scheme, SchemeChange, SchemeWatcher } from '@libs/scheme';

/**
 * The schemes of SCHEMES_DIR, compiled. Kept current by a `SchemeWatcher` (the one every service
 * runs): edited, added or removed files apply without a rebuild or restart; a file that no longer
 * validates, or whose mapping does not compile, keeps its last good version.
 */
export class SchemeRegistry {
  private compiled = new Map<string, CompiledMapping>();
  private readonly watcher: SchemeWatcher;
  private readonly ownsWatcher: boolean;

  /** A directory (a watcher of its own, checked by `reloadIfChanged`) or a service's watcher. */
  constructor(source: string | SchemeWatcher, logger: AppLogger = silentLogger) {
    this.ownsWatcher = typeof source === 'string';
    this.watcher =
      typeof source === 'string'
        ? new SchemeWatcher({
            dir: source,
            intervalMs: 2000,
            logger,
            accept: (next) => SchemeRegistry.compileProblem(next),
          })
        : source;
    this.watcher.onChange((changes) => this.apply(changes));
  }

  /** The watcher's veto: a scheme whose mapping does not compile is not taken. */
  static compileProblem(scheme: Scheme): string | undefined {
    try {
      compileScheme(scheme);
      return undefined;
    } catch (err) {
      return `mapping does not compile: ${(err as Error).message}`;
    }
  }

  /** First load: any invalid scheme file is an error (config is validated at boot). */
  load(): void {
    if (this.ownsWatcher) this.watcher.load();
    this.compiled = new Map(this.watcher.schemes().map((s) => [s.id, compileScheme(s)]));
  }

  /** Checks the files now; the ids of schemes added, changed or removed. */
  async reloadIfChanged(): Promise<string[]> {
    return (await this.watcher.check()).map((c) => c.id);
  }

  private apply(changes: SchemeChange[]): void {
    for (const change of changes) {
      if (change.kind === 'removed') this.compiled.delete(change.id);
      else this.compiled.set(change.id, compileScheme(change.scheme));
    }
  }

  get(schemeId: string): CompiledMapping | undefined {
    return this.compiled.get(schemeId);
  }

  schemes(): Scheme[] {
    return [...this.compiled.values()].map((c) => c.scheme);
  }
}
