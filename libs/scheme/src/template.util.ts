import { FORBIDDEN_KEYS } from './scheme.schema';

/**
 * Templates are text with `{{path}}` placeholders (`{{order_no}}`, `WDT-{{order_no}}`,
 * `{{details_list.spec_no}}`). A path is dot-separated identifiers; nothing else is evaluated —
 * use a `formula` for logic. Placeholders never name `__proto__`, `constructor` or `prototype`.
 */
export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'var'; path: readonly string[]; raw: string }
  /** `{{$sid}}`: the sid of the record's source connection (given per evaluation, not read from the record). */
  | { kind: 'sid'; raw: typeof SID_PLACEHOLDER };

/** The one `$` variable templates know: `{{$sid}}`, the sid of the record's source (WDT) connection. */
export const SID_PLACEHOLDER = '$sid';

export interface ParsedTemplate {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
  /** The template is exactly one placeholder: the raw value is used, not text. */
  readonly single: boolean;
}

export class TemplateSyntaxError extends Error {
  override readonly name = 'TemplateSyntaxError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const SEGMENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses a template; throws `TemplateSyntaxError` with a message fit for a scheme error. */
export function parseTemplate(source: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf('{{', pos);
    if (open < 0) {
      parts.push({ kind: 'text', text: source.slice(pos) });
      break;
    }
    if (open > pos) parts.push({ kind: 'text', text: source.slice(pos, open) });
    const close = source.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateSyntaxError(`unclosed "{{" at character ${open + 1}`, open);
    const raw = source.slice(open + 2, close).trim();
    if (raw === '') throw new TemplateSyntaxError(`empty placeholder "{{}}" at character ${open + 1}`, open);
    if (raw === SID_PLACEHOLDER) {
      parts.push({ kind: 'sid', raw: SID_PLACEHOLDER });
      pos = close + 2;
      continue;
    }
    const path = raw.split('.');
    for (const seg of path) {
      if (!SEGMENT.test(seg)) {
        throw new TemplateSyntaxError(
          `placeholder "{{${raw}}}" is not a dotted path of identifiers (use a formula for expressions)`,
          open,
        );
      }
      if (FORBIDDEN_KEYS.has(seg)) {
        throw new TemplateSyntaxError(`placeholder "{{${raw}}}" names the forbidden key "${seg}"`, open);
      }
    }
    parts.push({ kind: 'var', path, raw });
    pos = close + 2;
  }
  const single = parts.length === 1 && parts[0].kind !== 'text';
  return { source, parts, single };
}

/**
 * The literal text before the first placeholder other than `{{$sid}}`, with `{{$sid}}` replaced by
 * `sid` (undefined: `{{$sid}}` ends the prefix too). Two keys whose prefixes are equal or one a
 * prefix of the other can collide.
 */
export function templateLiteralPrefix(t: ParsedTemplate, sid?: string): string {
  let out = '';
  for (const p of t.parts) {
    if (p.kind === 'text') out += p.text;
    else if (p.kind === 'sid' && sid !== undefined) out += sid;
    else break;
  }
  return out;
}

/** The record placeholders of a parsed template (`{{$sid}}` is not one). */
export function templateVariables(t: ParsedTemplate): Array<readonly string[]> {
  const out: Array<readonly string[]> = [];
  for (const p of t.parts) if (p.kind === 'var') out.push(p.path);
  return out;
}
