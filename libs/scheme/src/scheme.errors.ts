/** One problem found in a scheme file. `path` uses dots and `[i]`: `mapping.entries[0].fields.FRMREALQTY.type`. */
export interface SchemeIssue {
  file: string;
  /** 1-based; absent when the problem has no place in the file (e.g. the file cannot be read). */
  line?: number;
  col?: number;
  path: string;
  /** The same path as segments (`['mapping', 'entries', 0, 'fields']`); `[]` for file-level problems. */
  segments?: SchemePath;
  message: string;
  /**
   * Set when the problem sits in a base file the scheme extends: where in the base. `file`/`line`
   * then point at the scheme's `extends` key, and `message` names the base file and line too.
   */
  base?: { file: string; line?: number; col?: number };
}

export type SchemePath = ReadonlyArray<string | number>;

/** Renders a path the way every scheme message shows it: `mapping.header.FDate.template`. */
export function formatSchemePath(path: SchemePath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out === '' ? '(root)' : out;
}

/** `file:line:col path: message` (line/col omitted when unknown). */
export function formatSchemeIssue(issue: SchemeIssue): string {
  const where = issue.line !== undefined ? `${issue.file}:${issue.line}:${issue.col ?? 1}` : issue.file;
  return `${where} ${issue.path}: ${issue.message}`;
}

/** A scheme file that cannot be used; carries every issue found, not only the first. */
export class SchemeError extends Error {
  override readonly name = 'SchemeError';
  constructor(readonly issues: readonly SchemeIssue[]) {
    super(
      issues.length === 1
        ? `invalid scheme: ${formatSchemeIssue(issues[0])}`
        : `invalid scheme (${issues.length} problems):\n${issues.map((i) => `  ${formatSchemeIssue(i)}`).join('\n')}`,
    );
  }
}
