import { buildRequest, compileScheme, MappingError } from '@libs/mapping';
import { referencesOf } from '@libs/loading';
import { parseScheme, piiTargetFields, Scheme, SchemeError, SchemeIssue } from '@libs/scheme';
import type { PreviewMapping } from '@libs/work-requests';
import { maskPii } from './pii-mask.util';

/** A scheme issue with its path as segments (`mapping.entries[0].fields.X` → `['mapping','entries',0,'fields','X']`). */
export function issuePath(path: string): Array<string | number> {
  if (path.startsWith('(')) return [];
  const out: Array<string | number> = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

export class DraftSchemeError extends Error {
  constructor(readonly issues: Array<{ path: Array<string | number>; message: string }>) {
    super(
      `the scheme does not validate: ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
}

/** Parses and compiles a draft as `scheme:check` does; a DraftSchemeError lists every problem at its field. */
export function parseDraftScheme(yaml: string, fileName: string): Scheme {
  try {
    const scheme = parseScheme(yaml, fileName);
    compileScheme(scheme);
    return scheme;
  } catch (e) {
    if (e instanceof SchemeError)
      throw new DraftSchemeError(
        e.issues.map((i: SchemeIssue) => ({
          path: issuePath(i.path),
          message: i.line !== undefined ? `${i.message} (line ${i.line})` : i.message,
        })),
      );
    throw new DraftSchemeError([{ path: [], message: (e as Error).message }]);
  }
}

function describe(e: unknown): string {
  return e instanceof MappingError ? `mapping error [${e.code}] ${e.message}` : (e as Error).message;
}

/**
 * What a scheme makes of one WDT record, for a live preview (pure: no I/O): every precondition with
 * whether it passes (each evaluated on its own, so all are shown, not only the first failing one),
 * the BatchSave body the mapping builds (preconditions aside, so a skipped record still shows its
 * mapping), and the base-data codes the body references (the loader checks them in Kingdee). Record
 * and body come back with personal data masked: this is what is stored and shown.
 */
export async function evaluatePreview(scheme: Scheme, record: unknown): Promise<PreviewMapping> {
  const preconditions: PreviewMapping['preconditions'] = [];
  for (const pc of scheme.preconditions) {
    try {
      const r = await compileScheme({ ...scheme, preconditions: [pc] }).map(record);
      preconditions.push(
        r.outcome === 'skipped'
          ? { name: pc.name, passed: false, message: r.reason }
          : { name: pc.name, passed: true, message: '' },
      );
    } catch (e) {
      // A failure in the precondition itself fails it; one in the fields after it means it passed.
      const own = e instanceof MappingError && e.field.startsWith('preconditions[');
      const before =
        e instanceof MappingError &&
        (e.code === 'malformed_record' || e.field === scheme.target.idempotencyKey.field);
      preconditions.push({
        name: pc.name,
        passed: !own && !before,
        message: own || before ? describe(e) : '',
      });
    }
  }
  const masked = maskPii(record);
  try {
    const mapped = await compileScheme({ ...scheme, preconditions: [] }).map(record);
    if (mapped.outcome !== 'document') throw new Error('no document');
    const request = maskPii(buildRequest(scheme, [mapped.model]), piiTargetFields(scheme));
    const refs = referencesOf(mapped.model).map((r) => ({ ...r }));
    return {
      state: refs.length > 0 ? 'checking' : 'done',
      error: null,
      record: masked,
      request,
      preconditions,
      refs,
      codes: refs.map((r) => ({
        field: r.field,
        formId: r.form,
        code: r.code,
        state: 'unchecked' as const,
        message: '',
      })),
    };
  } catch (e) {
    return {
      state: 'failed',
      error: describe(e),
      record: masked,
      request: null,
      preconditions,
      refs: [],
      codes: [],
    };
  }
}
