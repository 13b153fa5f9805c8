import { ConnectionRegistry } from '@libs/connections';
import { ConnectionKind, ConnectionTestResult } from './connection-test.util';

/** One tested connection, as the CLI prints it. */
export interface ConnectionTestReport extends ConnectionTestResult {
  name: string;
  kind: ConnectionKind;
  /** The WDT sid, or the Kingdee account (`host/path#acctId`). */
  account: string;
}

export interface ConnectionSelection {
  kind?: ConnectionKind;
  /** Names to test (of either kind, or of `kind`); empty: every connection. */
  names: string[];
}

/** The (kind, name) pairs a selection means; an unknown name throws, listing the known ones. */
export function selectConnections(
  registry: ConnectionRegistry,
  selection: ConnectionSelection,
): Array<{ kind: ConnectionKind; name: string }> {
  const kinds: ConnectionKind[] = selection.kind ? [selection.kind] : ['wdt', 'kingdee'];
  const all = kinds.flatMap((kind) =>
    (kind === 'wdt' ? registry.wdtNames() : registry.kingdeeNames()).map((name) => ({ kind, name })),
  );
  if (selection.names.length === 0) return all;
  const unknown = selection.names.filter((n) => !all.some((c) => c.name === n));
  if (unknown.length > 0)
    throw new Error(
      `unknown connection${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')} ` +
        `(known${selection.kind ? ` ${selection.kind}` : ''}: ${all.map((c) => `${c.kind}:${c.name}`).join(', ') || 'none'})`,
    );
  return all.filter((c) => selection.names.includes(c.name));
}

/** Tests each selected connection in turn. */
export async function runConnectionTests(
  registry: ConnectionRegistry,
  selected: Array<{ kind: ConnectionKind; name: string }>,
  test: (kind: ConnectionKind, name: string) => Promise<ConnectionTestResult>,
): Promise<ConnectionTestReport[]> {
  const views = registry.describe();
  const out: ConnectionTestReport[] = [];
  for (const { kind, name } of selected) {
    const account =
      kind === 'wdt'
        ? (views.wdt.find((v) => v.name === name)?.sid ?? '')
        : (views.kingdee.find((v) => v.name === name)?.account ?? '');
    out.push({ name, kind, account, ...(await test(kind, name)) });
  }
  return out;
}

/** A plain-text table: name, kind, sid/account, ok, ms, error. */
export function formatConnectionTable(rows: ConnectionTestReport[]): string {
  const header = ['NAME', 'KIND', 'SID/ACCOUNT', 'OK', 'MS', 'ERROR'];
  const cells = rows.map((r) => [
    r.name,
    r.kind,
    r.account,
    r.ok ? 'ok' : 'FAILED',
    String(Math.round(r.ms)),
    r.ok ? '' : `${r.errorKind ?? 'error'}: ${r.error ?? ''}`.replace(/\s+/g, ' '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [header, ...cells]
    .map((line) =>
      line
        .map((c, i) => (i === line.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
