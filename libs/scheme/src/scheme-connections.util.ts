import type { SchemeIssue, SchemePath } from './scheme.errors';
import type { Scheme } from './scheme.schema';
import { parseTemplate, templateLiteralPrefix, TemplateSyntaxError } from './template.util';

/**
 * The connections a deployment has, by name, without secrets: what scheme checks need. Structurally
 * the `ConnectionsOutline` of `@libs/connections` (`readConnectionsOutline`), declared here so the
 * scheme library does not depend on it.
 */
export interface ConnectionsOutline {
  wdt: Record<string, { sid: string; gateway: 'native' | 'qimen'; budgetKey: string }>;
  kingdee: Record<string, { account: string }>;
}

/** The key template that keeps shops apart in one Kingdee account. */
export const SID_KEY_SUGGESTION = '{{$sid}}-{{order_no}}';

export interface SchemeConnectionsOptions {
  /** The file each scheme was read from, for the issues' `file` (default `scheme <id>`). */
  fileOf?: (scheme: Scheme) => string | undefined;
}

function knownNames(names: string[]): string {
  return names.length ? names.join(', ') : 'none';
}

/**
 * Checks schemes against the deployment's connections, across schemes:
 * - `source.connection` names a WDT connection, `target.connection` a Kingdee one;
 * - two enabled schemes writing the same Kingdee account and form must not read the same sid, and
 *   the literal prefixes of their idempotency templates (`target.idempotencyKey.source`, text before
 *   the first placeholder other than `{{$sid}}`, with `{{$sid}}` replaced by the scheme's sid) must
 *   differ with neither a prefix of the other — else one order number in two shops could give the
 *   same key, and the second bill would be taken for the first.
 * Returns every problem (empty when fine); each names the scheme(s) and the field.
 */
export function checkSchemeConnections(
  schemes: readonly Scheme[],
  outline: ConnectionsOutline,
  options: SchemeConnectionsOptions = {},
): SchemeIssue[] {
  const issues: SchemeIssue[] = [];
  const fileOf = (s: Scheme) => options.fileOf?.(s) ?? `scheme ${s.id}`;
  const add = (s: Scheme, segments: SchemePath, message: string) =>
    issues.push({ file: fileOf(s), path: segments.join('.'), segments: [...segments], message });
  const wdtNames = Object.keys(outline.wdt).sort();
  const kingdeeNames = Object.keys(outline.kingdee).sort();

  interface Writer {
    scheme: Scheme;
    sid: string;
    account: string;
    template: string;
    prefix: string | undefined;
  }
  const writers: Writer[] = [];
  for (const s of schemes) {
    const src = s.source.connection;
    const dst = s.target.connection;
    const wdt = Object.hasOwn(outline.wdt, src) ? outline.wdt[src] : undefined;
    const kingdee = Object.hasOwn(outline.kingdee, dst) ? outline.kingdee[dst] : undefined;
    if (!wdt)
      add(
        s,
        ['source', 'connection'],
        `scheme ${s.id}: source.connection "${src}" is not a WDT connection (known: ${knownNames(wdtNames)})`,
      );
    if (!kingdee)
      add(
        s,
        ['target', 'connection'],
        `scheme ${s.id}: target.connection "${dst}" is not a Kingdee connection (known: ${knownNames(kingdeeNames)})`,
      );
    if (!wdt || !kingdee || !s.enabled) continue;
    const template = s.target.idempotencyKey.source;
    let prefix: string | undefined;
    try {
      prefix = templateLiteralPrefix(parseTemplate(template), wdt.sid);
    } catch (e) {
      if (!(e instanceof TemplateSyntaxError)) throw e;
      prefix = undefined; // reported by the scheme's own check
    }
    writers.push({ scheme: s, sid: wdt.sid, account: kingdee.account, template, prefix });
  }

  const keyPath = ['target', 'idempotencyKey', 'source'];
  for (let i = 0; i < writers.length; i++) {
    for (let j = i + 1; j < writers.length; j++) {
      const a = writers[i];
      const b = writers[j];
      if (a.account !== b.account || a.scheme.target.formId !== b.scheme.target.formId) continue;
      const where =
        `Kingdee account ${a.account} (connections ${a.scheme.target.connection}` +
        `${a.scheme.target.connection === b.scheme.target.connection ? '' : ` and ${b.scheme.target.connection}`}), ` +
        `form ${a.scheme.target.formId}`;
      if (a.sid === b.sid) {
        add(
          b.scheme,
          ['source', 'connection'],
          `schemes ${a.scheme.id} and ${b.scheme.id} both read sid ${a.sid} into ${where}: every order would ` +
            `be claimed by both; keep one scheme per shop, account and form`,
        );
        continue;
      }
      if (a.prefix === undefined || b.prefix === undefined) continue;
      if (!a.prefix.startsWith(b.prefix) && !b.prefix.startsWith(a.prefix)) continue;
      add(
        b.scheme,
        keyPath,
        `schemes ${a.scheme.id} and ${b.scheme.id} write ${where} with idempotency keys that can collide: ` +
          `${a.scheme.id} ${JSON.stringify(a.template)} (literal prefix ${JSON.stringify(a.prefix)}) and ` +
          `${b.scheme.id} ${JSON.stringify(b.template)} (literal prefix ${JSON.stringify(b.prefix)}); ` +
          `the same order number in two shops would give the same key. Start both keys with the shop's sid, ` +
          `e.g. source ${JSON.stringify(SID_KEY_SUGGESTION)} (and the key field's template likewise)`,
      );
    }
  }
  return issues;
}
