import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HttpException, HttpStatus, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { createTwoFilesPatch } from 'diff';
import { DataSource, EntityManager } from 'typeorm';
import { SchemeRevisionEntity } from '@libs/database';
import { checkSchemeText } from '@libs/mapping';
import { DATA_SOURCE, schemeKeyRefusal } from '@libs/runtime';
import { Scheme, schemeContentHash, SchemeIssue } from '@libs/scheme';
import { SchemeFilesService } from './scheme-files.service';
import { SchemeIssueOut } from './scheme-editing.schema';

/** A strong ETag: the sha256 of the file bytes, quoted as HTTP wants it. */
export const etagOf = (bytes: Buffer | string): string => `"${schemeContentHash(bytes)}"`;

function issueView(i: SchemeIssue): SchemeIssueOut {
  return {
    path: [...(i.segments ?? [])],
    message: i.message,
    ...(i.line !== undefined ? { line: i.line } : {}),
    ...(i.col !== undefined ? { col: i.col } : {}),
  };
}

function fail(status: number, message: string, extra: Record<string, unknown> = {}): never {
  throw new HttpException(
    { statusCode: status, message, error: HttpStatus[status]?.replace(/_/g, ' '), ...extra },
    status,
  );
}

const READ_ONLY_CODES = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * Reading, validating and saving scheme files through the API. A save is a compare-and-swap on the
 * file's sha256 (If-Match), under a Postgres advisory lock per scheme (several operator replicas),
 * written atomically (temp file + rename in the same directory), and recorded in scheme_revisions
 * with a unified diff. Every service picks the new file up through its watcher.
 */
@Injectable()
export class SchemeEditingService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly files: SchemeFilesService,
  ) {}

  private get dir(): string {
    return this.files.config.SCHEMES_DIR;
  }

  /** `scheme:check` on a text: issues with the path of each field. */
  validate(yaml: string, fileName = 'scheme.yaml') {
    const checked = checkSchemeText(yaml, fileName, { schemesDir: this.dir });
    return {
      valid: checked.scheme !== null,
      issues: checked.issues.map(issueView),
      scheme: checked.scheme as Record<string, unknown> | null,
    };
  }

  private async fileOf(schemeId: string): Promise<string> {
    const watcher = await this.files.refresh();
    const file =
      watcher.fileOf(schemeId) ??
      // A file that never validated is still the scheme's when it carries the id in its name.
      ['.yaml', '.yml', '.json']
        .map((ext) => path.join(this.dir, `${schemeId}${ext}`))
        .find((f) => fs.existsSync(f));
    if (!file) throw new NotFoundException(`no scheme file for ${schemeId}`);
    return file;
  }

  async read(schemeId: string) {
    const file = await this.fileOf(schemeId);
    const bytes = fs.readFileSync(file);
    const yaml = bytes.toString('utf8');
    return {
      schemeId,
      yaml,
      etag: etagOf(bytes),
      writable: this.writable(),
      path: file,
      scheme: checkSchemeText(yaml, file).scheme as Record<string, unknown> | null,
    };
  }

  /**
   * Whether a save can succeed: not under SCHEMES_READ_ONLY (GitOps) and a file can be created in
   * the directory (a read-only mount says EROFS even to root, which file modes would not stop).
   */
  writable(): boolean {
    if (this.files.config.SCHEMES_READ_ONLY) return false;
    const probe = path.join(this.dir, `.write-probe-${randomBytes(6).toString('hex')}`);
    try {
      fs.writeFileSync(probe, '', { flag: 'wx' });
      fs.rmSync(probe, { force: true });
      return true;
    } catch (err) {
      if (READ_ONLY_CODES.has((err as NodeJS.ErrnoException).code ?? '')) return false;
      throw err;
    }
  }

  private refuseReadOnly(): void {
    if (!this.writable())
      fail(
        409,
        'the scheme directory is read-only (SCHEMES_READ_ONLY or a read-only mount): download the YAML and commit it where the schemes come from',
        {
          download: true,
        },
      );
  }

  private checkOrFail(yaml: string, file: string): Scheme {
    const checked = checkSchemeText(yaml, file);
    if (!checked.scheme)
      fail(400, `the scheme does not validate (${checked.issues.length} problem(s))`, {
        issues: checked.issues.map(issueView),
      });
    return checked.scheme;
  }

  /** Saves a new version of an existing scheme's file. */
  async save(
    schemeId: string,
    input: { yaml: string; comment?: string; ifMatch: string | undefined; author: string },
  ): Promise<{ schemeId: string; etag: string; revision: number; path: string }> {
    if (!input.ifMatch) fail(428, 'If-Match is required: send the etag of the version you edited');
    const file = await this.fileOf(schemeId);
    const next = this.checkOrFail(input.yaml, file);
    if (next.id !== schemeId)
      fail(400, `the id in the file (${next.id}) must stay ${schemeId}; create a new scheme instead`, {
        issues: [{ path: ['id'], message: `must be ${schemeId}` }],
      });
    this.refuseReadOnly();
    return this.ds.transaction(async (tx) => {
      // Raw: an advisory lock (TypeORM has no API for one): one writer per scheme file.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('scheme-file:' || $1))`, [schemeId]);
      const current = fs.readFileSync(file);
      if (etagOf(current) !== input.ifMatch!.trim())
        fail(412, 'the scheme file changed since you loaded it (someone else saved): reload and edit again', {
          etag: etagOf(current),
        });
      const previousText = current.toString('utf8');
      const previous = checkSchemeText(previousText, file).scheme;
      // Compared with the key the claims were made under (scheme_keys), not only the file's: a file
      // holding a refused key change must be fixable by saving the recorded key back.
      const refusal = await schemeKeyRefusal(this.ds, next, previous ?? undefined);
      if (refusal) fail(409, refusal);
      let base = await latestRevision(tx, schemeId);
      if (!base || base.yaml !== previousText) {
        // The file as it was (first save, or edited by hand since): kept so a rollback can reach it.
        const revision = base ? base.revision + 1 : 0;
        await this.insertRevision(
          tx,
          schemeId,
          revision,
          previousText,
          base?.yaml ?? '',
          'file',
          'the file as found before this save',
        );
        base = { revision, yaml: previousText };
      }
      const revision = base.revision + 1;
      await this.insertRevision(
        tx,
        schemeId,
        revision,
        input.yaml,
        base.yaml,
        input.author,
        input.comment ?? null,
      );
      this.writeAtomically(file, input.yaml);
      await this.files.refresh();
      return { schemeId, etag: etagOf(input.yaml), revision, path: file };
    });
  }

  /** A new scheme file `<id>.yaml` (refused when the id or the file exists). */
  async create(input: { yaml: string; comment?: string; author: string }) {
    const scheme = this.checkOrFail(input.yaml, 'scheme.yaml');
    const watcher = await this.files.refresh();
    if (watcher.get(scheme.id)) fail(409, `scheme ${scheme.id} already exists`);
    this.refuseReadOnly();
    const file = path.join(this.dir, `${scheme.id}.yaml`);
    return this.ds.transaction(async (tx) => {
      // Raw: a transaction-level advisory lock per scheme file.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('scheme-file:' || $1))`, [scheme.id]);
      const tmp = this.writeTemp(file, input.yaml);
      try {
        // link fails when the name exists: no overwrite of a file someone else created meanwhile.
        fs.linkSync(tmp, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST')
          fail(409, `${path.basename(file)} already exists`);
        throw err;
      } finally {
        fs.rmSync(tmp, { force: true });
      }
      const last = await latestRevision(tx, scheme.id);
      const revision = last ? last.revision + 1 : 1;
      await this.insertRevision(
        tx,
        scheme.id,
        revision,
        input.yaml,
        last?.yaml ?? '',
        input.author,
        input.comment ?? null,
      );
      await this.files.refresh();
      return { schemeId: scheme.id, etag: etagOf(input.yaml), revision, path: file };
    });
  }

  async revisions(schemeId: string) {
    const rows = await this.ds.getRepository(SchemeRevisionEntity).find({
      select: { revision: true, author: true, comment: true, createdAt: true, diff: true },
      where: { schemeId },
      order: { revision: 'DESC' },
    });
    return {
      items: rows.map((r) => ({
        revision: r.revision,
        author: r.author,
        comment: r.comment,
        createdAt: r.createdAt,
        diff: r.diff,
      })),
    };
  }

  async rollback(
    schemeId: string,
    revision: number,
    input: { ifMatch: string | undefined; author: string; comment?: string },
  ) {
    const rows = await this.ds
      .getRepository(SchemeRevisionEntity)
      .find({ select: { yaml: true }, where: { schemeId, revision } });
    if (rows.length === 0) throw new NotFoundException(`scheme ${schemeId} has no revision ${revision}`);
    return this.save(schemeId, {
      yaml: rows[0].yaml,
      ifMatch: input.ifMatch,
      author: input.author,
      comment: input.comment ?? `rollback to revision ${revision}`,
    });
  }

  private async insertRevision(
    tx: EntityManager,
    schemeId: string,
    revision: number,
    yaml: string,
    previous: string,
    author: string,
    comment: string | null,
  ): Promise<void> {
    const diff = createTwoFilesPatch(
      `${schemeId}@${revision - 1}`,
      `${schemeId}@${revision}`,
      previous,
      yaml,
    );
    await tx.getRepository(SchemeRevisionEntity).insert({ schemeId, revision, yaml, diff, author, comment });
  }

  private writeTemp(file: string, text: string): string {
    const tmp = path.join(
      path.dirname(file),
      `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`,
    );
    try {
      fs.writeFileSync(tmp, text, { flag: 'wx' });
    } catch (err) {
      if (READ_ONLY_CODES.has((err as NodeJS.ErrnoException).code ?? ''))
        fail(409, 'the scheme directory is read-only: download the YAML instead', { download: true });
      throw err;
    }
    return tmp;
  }

  /** Temp file + rename in the same directory: readers see the old file or the new one, never half. */
  private writeAtomically(file: string, text: string): void {
    const tmp = this.writeTemp(file, text);
    try {
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  }
}

/** The newest saved revision of a scheme, if any. */
function latestRevision(
  tx: EntityManager,
  schemeId: string,
): Promise<Pick<SchemeRevisionEntity, 'revision' | 'yaml'> | null> {
  return tx.getRepository(SchemeRevisionEntity).findOne({
    select: { revision: true, yaml: true },
    where: { schemeId },
    order: { revision: 'DESC' },
  });
}
