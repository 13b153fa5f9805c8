import { parseScheme, ParseSchemeOptions, Scheme, SchemeError, SchemeIssue } from '@libs/scheme';
import { compileScheme } from './compile-scheme.util';

/**
 * The checks of `scheme:check` on one scheme text: syntax, shape (zod), semantics, and compiling
 * with the mapping engine. Used by the CLI and by the operator API (validate, save), so both say the
 * same thing about the same text. `extends` is followed from `fileName`'s directory (or
 * `options.schemesDir`).
 */
export function checkSchemeText(
  text: string,
  fileName: string,
  options: ParseSchemeOptions = {},
): { scheme: Scheme; usesFormulas: boolean; issues: [] } | { scheme: null; issues: SchemeIssue[] } {
  try {
    const scheme = parseScheme(text, fileName, options);
    const compiled = compileScheme(scheme);
    return { scheme, usesFormulas: compiled.usesFormulas, issues: [] };
  } catch (e) {
    if (e instanceof SchemeError) return { scheme: null, issues: [...e.issues] };
    return {
      scheme: null,
      issues: [{ file: fileName, path: '(compile)', segments: [], message: (e as Error).message }],
    };
  }
}
