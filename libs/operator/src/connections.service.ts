import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConnectionKind, ConnectionTestRow, ConnectionTestStore } from '@libs/connection-health';
import { ConnectionRegistry } from '@libs/connections';
import { CONNECTIONS, DATA_SOURCE } from '@libs/runtime';
import { OperatorActionsService } from './operator-actions.service';
import { SCHEME_CATALOG, SchemeCatalog } from './operator.tokens';

interface StatusRow {
  service: string;
  instance: string;
  key: string;
  value: Record<string, unknown>;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** How long a test request waits for its answer before answering 202. */
export const CONNECTION_TEST_WAIT_MS = 20_000;

/**
 * Connections as operators see them: the registry's description (no secrets; the operator reads no
 * secret), the schemes using each, and the health the extractors and loaders report in
 * service_status (`connection:<kind>:<name>`). Tests are queued in `connection_tests` for them.
 */
@Injectable()
export class ConnectionsService {
  private readonly tests: ConnectionTestStore;

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(CONNECTIONS) private readonly registry: ConnectionRegistry | null,
    @Inject(SCHEME_CATALOG) private readonly catalog: SchemeCatalog,
    private readonly actions: OperatorActionsService,
  ) {
    this.tests = new ConnectionTestStore(ds);
  }

  async list() {
    await this.catalog.refresh?.();
    const schemes = this.catalog.list();
    const views = this.registry?.describe() ?? { wdt: [], kingdee: [] };
    // Raw: a prefix match on the key (LIKE 'connection:%') across every instance's rows.
    const rows: StatusRow[] = await this.ds.query(
      `SELECT service, instance, key, value FROM service_status WHERE key LIKE 'connection:%' ORDER BY instance`,
    );
    const latest = new Map((await this.tests.latest()).map((t) => [`${t.kind}:${t.name}`, t]));
    const health = (kind: ConnectionKind, name: string) => {
      const instances = rows
        .filter((r) => r.key === `connection:${kind}:${name}`)
        .map((r) => ({
          service: r.service,
          instance: r.instance,
          ok: r.value?.ok === true,
          lastError: str(r.value?.lastError),
          checkedAt: str(r.value?.checkedAt),
          since: str(r.value?.since),
        }));
      const failing = instances.filter((i) => !i.ok);
      const newest = (list: typeof instances) =>
        [...list].sort((a, b) => (b.checkedAt ?? '').localeCompare(a.checkedAt ?? ''))[0];
      const shown = newest(failing.length > 0 ? failing : instances);
      const lastError = newest(instances.filter((i) => i.lastError !== null))?.lastError ?? null;
      return {
        status:
          instances.length === 0
            ? ('unknown' as const)
            : failing.length > 0
              ? ('failing' as const)
              : ('ok' as const),
        lastError,
        checkedAt: newest(instances)?.checkedAt ?? null,
        since: shown?.since ?? null,
        instances,
        lastTest: latest.get(`${kind}:${name}`) ?? null,
      };
    };
    const wdt = views.wdt.map((v) => ({
      kind: 'wdt' as const,
      name: v.name,
      origin: v.origin,
      sid: v.sid,
      gateway: v.gateway,
      appKey: v.appKey,
      budgetKey: v.budgetKey,
      callsPerMinute: v.callsPerMinute,
      url: v.url,
      account: null,
      acctId: null,
      username: null,
      authMode: null,
      sessionCap: null,
      schemes: schemes.filter((s) => s.source.connection === v.name).map((s) => s.id),
      ...health('wdt', v.name),
    }));
    const kingdee = views.kingdee.map((v) => ({
      kind: 'kingdee' as const,
      name: v.name,
      origin: v.origin,
      sid: null,
      gateway: null,
      appKey: null,
      budgetKey: null,
      callsPerMinute: null,
      url: v.serverUrl,
      account: v.account,
      acctId: v.acctId,
      username: v.username,
      authMode: v.authMode,
      sessionCap: v.sessionCap,
      schemes: schemes.filter((s) => s.target.connection === v.name).map((s) => s.id),
      ...health('kingdee', v.name),
    }));
    return { items: [...wdt, ...kingdee] };
  }

  /**
   * Queues a test for the services holding the secrets and waits up to `waitMs` for the answer.
   * `done: false`: not answered yet (the caller answers 202).
   */
  async test(
    kind: ConnectionKind,
    name: string,
    by: string,
    waitMs = CONNECTION_TEST_WAIT_MS,
  ): Promise<{ done: boolean; test: ConnectionTestRow }> {
    const known = kind === 'wdt' ? this.registry?.hasWdt(name) : this.registry?.hasKingdee(name);
    if (!known) {
      await this.actions.record({
        tokenName: by,
        action: 'connection.test',
        target: `${kind}:${name}`,
        outcome: 'not_found',
      });
      throw new NotFoundException(`no ${kind === 'wdt' ? 'WDT' : 'Kingdee'} connection "${name}"`);
    }
    const queued = await this.tests.request(kind, name, by);
    const deadline = Date.now() + waitMs;
    let current = queued;
    while (current.state !== 'done' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      current = (await this.tests.get(queued.id)) ?? current;
    }
    const done = current.state === 'done';
    await this.actions.record({
      tokenName: by,
      action: 'connection.test',
      target: `${kind}:${name}`,
      params: { test: queued.id },
      outcome: done
        ? current.result?.ok
          ? `ok (${current.result.ms} ms)`
          : `failed: ${current.result?.errorKind ?? 'error'}`
        : 'queued (no answer yet)',
    });
    return { done, test: current };
  }

  async getTest(id: string): Promise<ConnectionTestRow> {
    const found = await this.tests.get(id);
    if (!found) throw new NotFoundException(`no connection test ${id}`);
    return found;
  }
}
