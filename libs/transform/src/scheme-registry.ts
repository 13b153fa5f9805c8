import { statSync } from 'node:fs';
import { AppLogger, silentLogger } from '@libs/common';
import { compileScheme, CompiledMapping } from '@libs/mapping';
import { listSchemeFiles, loadSchemeFile, Scheme } from '@libs/scheme';

/**
 * The schemes of SCHEMES_DIR, compiled. `reloadIfChanged` picks up edited, added or removed files
 * without a rebuild or restart; a file that no longer validates keeps its last good version (and
 * the error is logged), so a typo cannot stop a running pipeline.
 */
export class SchemeRegistry {
  private compiled = new Map<string, { file: string; mtimeMs: number; mapping: CompiledMapping }>();

  constructor(
    private readonly dir: string,
    private readonly logger: AppLogger = silentLogger,
  ) {}

  /** First load: any invalid scheme file is an error (config is validated at boot). */
  load(): void {
    this.compiled.clear();
    for (const file of listSchemeFiles(this.dir)) {
      const scheme = loadSchemeFile(file);
      if (this.compiled.has(scheme.id))
        throw new Error(
          `${file}: scheme id "${scheme.id}" is already used by ${this.compiled.get(scheme.id)!.file}`,
        );
      this.compiled.set(scheme.id, { file, mtimeMs: statSync(file).mtimeMs, mapping: compileScheme(scheme) });
    }
  }

  reloadIfChanged(): string[] {
    const changed: string[] = [];
    const files = listSchemeFiles(this.dir);
    const byFile = new Map([...this.compiled.entries()].map(([id, c]) => [c.file, { id, ...c }]));
    for (const file of files) {
      const mtimeMs = statSync(file).mtimeMs;
      const known = byFile.get(file);
      if (known && known.mtimeMs === mtimeMs) continue;
      try {
        const scheme = loadSchemeFile(file);
        if (known && known.id !== scheme.id) this.compiled.delete(known.id);
        this.compiled.set(scheme.id, { file, mtimeMs, mapping: compileScheme(scheme) });
        changed.push(scheme.id);
        this.logger.info({ scheme: scheme.id, file }, 'scheme (re)loaded');
      } catch (err) {
        if (known) known.mtimeMs = mtimeMs;
        this.logger.error(
          { file, err: (err as Error).message },
          'scheme file invalid; keeping the last good version',
        );
      }
    }
    for (const [file, known] of byFile) {
      if (!files.includes(file)) {
        this.compiled.delete(known.id);
        changed.push(known.id);
      }
    }
    return changed;
  }

  get(schemeId: string): CompiledMapping | undefined {
    return this.compiled.get(schemeId)?.mapping;
  }

  schemes(): Scheme[] {
    return [...this.compiled.values()].map((c) => c.mapping.scheme);
  }
}
