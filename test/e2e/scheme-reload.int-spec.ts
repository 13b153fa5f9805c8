import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatShanghai } from '@libs/common';

import { StackRunner, StackService } from '@tools/devstack';
import { DataSource } from 'typeorm';
import { parseDocument } from 'yaml';
import { eventually } from '../support/test-env';

const root = resolve(__dirname, '../..');
const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';
const FILE = `${SCHEME}.yaml`;
const TOKEN = 'scheme-reload-operator-token-0123';
/** Every service that runs a scheme watcher. */
const WATCHERS: StackService[] = ['extractor', 'transformer', 'loader', 'operator'];

/** A bill as the Kingdee sandbox's admin API renders it (Kingdee field keys). */
interface Bill {
  FBillNo: string;
  FDocumentStatus: string;
  FDESCRIPTION?: unknown;
  [field: string]: unknown;
}

/**
 * Issue 11, "every service reloads schemes when their file changes", on the whole stack as processes:
 * the scheme file in SCHEMES_DIR is edited while extractor, transformer, loader and operator run, and
 * the effect is read where it lands (Kingdee bills, WDT calls, /api/schemes). Cases run in order on
 * one stack; each waits for the services' own log lines before it seeds the next order.
 */
describe('scheme files reload in every running service', () => {
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
  let stack: StackRunner;
  let ds: DataSource;
  let dir: string;
  let goodText: string;

  const path = () => join(dir, FILE);
  /** An atomic save (as editors and ConfigMap swaps do): a watcher never reads half a file. */
  const save = (text: string) => {
    writeFileSync(`${path()}.tmp`, text);
    renameSync(`${path()}.tmp`, path());
  };
  /** The last good text with a change (an invalid save in between is not built on). */
  const edit = (change: (doc: ReturnType<typeof parseDocument>) => void) => {
    const doc = parseDocument(goodText);
    change(doc);
    return doc.toString();
  };

  /** Pino lines of a service's log with this message. */
  const logged = (service: StackService, msg: string): Array<Record<string, unknown>> =>
    readFileSync(stack.processes.get(service)!.spec.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes(msg))
      .flatMap((l) => {
        try {
          const line = JSON.parse(l) as Record<string, unknown>;
          return line.msg === msg ? [line] : [];
        } catch {
          return [];
        }
      });
  /** Saves `text` and waits until every watcher logged `msg` once more than before the save. */
  const saveAndWait = async (text: string, msg: string, services = WATCHERS) => {
    const before = new Map(services.map((s) => [s, logged(s, msg).length]));
    save(text);
    await eventually(
      `"${msg}" from ${services.join(', ')}`,
      async () => services.every((s) => logged(s, msg).length > before.get(s)!),
      20_000,
    );
  };

  const seed = async (orderNo: string) =>
    stack.wdtAdmin('POST', '/orders', {
      orders: [
        {
          order_no: orderNo,
          status: 110,
          // Shipped just now: the frequent poll (cursor − 30 s overlap) picks it up; an order consigned
          // minutes before it appears is a late record, left to the 60-second lookback re-read.
          consign_time: formatShanghai(Date.now() - 5_000),
          warehouse_no: 'SH01',
          provider_no: 'GYS001',
          details_list: [{ spec_no: 'FH-S', goods_count: '2.0000' }],
        },
      ],
    });
  const billsOf = async (orderNo: string): Promise<Bill[]> =>
    (await stack.kingdeeAdmin('GET', `/bills/by-number/${encodeURIComponent(orderNo)}`)).items;
  const auditedBill = (orderNo: string) =>
    eventually(
      `an audited bill ${orderNo}`,
      async () => {
        const bills = await billsOf(orderNo);
        return bills.length === 1 && bills[0].FDocumentStatus === 'C' ? bills[0] : undefined;
      },
      45_000,
    );
  /** The Kingdee calls the loader recorded for an order, in order. */
  const operations = async (orderNo: string): Promise<string[]> =>
    (
      (await ds.query(
        `SELECT operation FROM audit_attempts WHERE scheme_id = $1 AND source_key = $2 ORDER BY at`,
        [SCHEME, orderNo],
      )) as Array<{ operation: string }>
    ).map((r) => r.operation);
  const schemesApi = async () => {
    const res = await fetch(`${stack.url('operator')}/api/schemes`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as {
      items: Array<{ id: string; fileError: string | null }>;
      fileErrors: Array<{ file: string; schemeId: string | null; error: string; services: string[] }>;
    };
  };
  const fileErrorOf = async () => (await schemesApi()).items.find((s) => s.id === SCHEME)?.fileError;
  const extractorStatus = async (): Promise<unknown[]> =>
    ds.query(`SELECT value FROM service_status WHERE service = 'extractor' AND key = $1`, [
      `scheme:${SCHEME}`,
    ]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scheme-reload-'));
    for (const f of readdirSync(join(root, 'schemes')).filter((f) => /\.ya?ml$/.test(f)))
      copyFileSync(join(root, 'schemes', f), join(dir, f));
    goodText = readFileSync(path(), 'utf8');
    // Polled every second (the shipped 2 s, halved) so the disabled window below stays short.
    goodText = edit((doc) => doc.setIn(['schedule', 'pollInterval'], '1s'));
    save(goodText);
    stack = new StackRunner({
      root,
      brokers,
      databaseUrl,
      schemesDir: dir,
      services: ['audit-writer', 'loader', 'transformer', 'extractor', 'operator'],
      operatorToken: TOKEN,
      // info: the watchers' "scheme reloaded" lines are the events the cases wait for.
      env: { LOG_LEVEL: 'info', SCHEME_RELOAD_MS: '300' },
    });
    await stack.prepare();
    await stack.startSandboxes();
    ds = await stack.openDataSource();
    await stack.startServices();
  });

  afterAll(async () => {
    await stack?.stop();
    await stack?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('applies an edited mapping to the next bill without a restart; bills already written stay as they are', async () => {
    await seed('RL-1');
    const first = await auditedBill('RL-1');
    expect(first.FDESCRIPTION ?? '').toBe('');

    // The loader keeps its attempts in a buffer for a moment.
    await eventually('RL-1 written by one BatchSave', async () => (await operations('RL-1')).length > 0);
    expect(await operations('RL-1')).toEqual(['BatchSave']);

    goodText = edit((doc) => {
      // The transformer's part (the mapping) …
      doc.setIn(['mapping', 'header', 'FDESCRIPTION'], doc.createNode({ template: '控制台 {{order_no}}' }));
      // … and the loader's (the target): Save, then Submit and Audit as calls of their own.
      doc.setIn(['target', 'submitMode'], 'separate');
      doc.setIn(['target', 'requestOptions', 'IsAutoSubmitAndAudit'], false);
    });
    await saveAndWait(goodText, 'scheme reloaded');
    // The extractor reads only source/schedule/enabled: a mapping edit leaves its polling alone.
    expect(logged('extractor', 'scheme file changed: extraction follows')).toHaveLength(0);

    await seed('RL-2');
    expect((await auditedBill('RL-2')).FDESCRIPTION).toBe('控制台 RL-2');
    const ops = await eventually('RL-2 submitted and audited by calls of their own', async () => {
      const seen = await operations('RL-2');
      return seen.includes('Submit') && seen.includes('Audit') ? seen : undefined;
    });
    expect([...ops].sort()).toEqual(['Audit', 'BatchSave', 'Submit']);
    expect(await billsOf('RL-1')).toEqual([first]);
    expect(await operations('RL-1')).toEqual(['BatchSave']);
  });

  it('keeps the last good mapping through an invalid edit, shows it as fileError, and clears it once fixed', async () => {
    // Not YAML at all.
    await saveAndWait(
      `${goodText}\nmapping: [unclosed\n`,
      'scheme file not applied; keeping the last good version',
    );
    const yamlError = await eventually('fileError for the bad YAML', fileErrorOf);
    expect(yamlError).toMatch(/YAML|yaml|flow|collection/i);

    // Valid YAML, a template that does not parse.
    const badTemplate = edit((doc) =>
      doc.setIn(['mapping', 'header', 'FDESCRIPTION'], doc.createNode({ template: '控制台 {{order_no' })),
    );
    await saveAndWait(badTemplate, 'scheme file not applied; keeping the last good version');
    const templateError = await eventually('fileError for the bad template', async () => {
      const e = await fileErrorOf();
      return e && /FDESCRIPTION/.test(e) ? e : undefined;
    });
    expect(templateError).toMatch(/mapping\.header\.FDESCRIPTION/);
    const view = (await schemesApi()).fileErrors.find((f) => f.file === FILE);
    expect(view?.services.sort()).toEqual([...WATCHERS].sort());

    // The pipeline still runs on the last good version.
    await seed('RL-3');
    expect((await auditedBill('RL-3')).FDESCRIPTION).toBe('控制台 RL-3');

    await saveAndWait(goodText, 'scheme file is valid again');
    expect(await fileErrorOf()).toBeNull();
    expect((await schemesApi()).fileErrors).toEqual([]);
  });

  it('refuses a target.idempotencyKey change on a scheme with claims: every service keeps the old key, and says why', async () => {
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM bill_claims WHERE scheme_id = $1`, [
      SCHEME,
    ]);
    expect(n).toBeGreaterThan(0);
    // The new key, and a mapping change in the same save: the whole file is refused, not half of it.
    const rekeyed = edit((doc) => {
      doc.setIn(['target', 'idempotencyKey', 'source'], 'K-{{order_no}}');
      doc.setIn(['mapping', 'header', 'FDESCRIPTION', 'template'], '新 {{order_no}}');
    });
    await saveAndWait(rekeyed, 'scheme file not applied; keeping the last good version');
    const error = await eventually('fileError for the key change', fileErrorOf);
    expect(error).toMatch(
      /target\.idempotencyKey of scheme .* changed .*bill claim\(s\) exist under the old key/s,
    );
    expect(error).toMatch(/a retry could write a second bill/);
    const view = (await schemesApi()).fileErrors.find((f) => f.file === FILE);
    expect(view?.services.sort()).toEqual([...WATCHERS].sort());

    await seed('RL-4');
    const bill = await auditedBill('RL-4');
    expect(bill.FDESCRIPTION).toBe('控制台 RL-4');
    const claims = await ds.query(
      `SELECT bill_key FROM bill_claims WHERE scheme_id = $1 AND bill_key LIKE '%RL-4' ORDER BY bill_key`,
      [SCHEME],
    );
    expect(claims).toEqual([{ bill_key: 'RL-4' }]);

    // A restart has no last good version in memory: the key the claims were made under is recorded
    // in Postgres, so a restarted transformer refuses to start on the changed key, saying why.
    const transformer = stack.processes.get('transformer')!;
    await expect(stack.restart('transformer')).rejects.toThrow(/exited during start-up/);
    expect(readFileSync(transformer.spec.logFile, 'utf8')).toMatch(
      /target\.idempotencyKey of scheme .* changed .*bill claim\(s\) exist under the old key/,
    );

    await saveAndWait(goodText, 'scheme file is valid again', ['extractor', 'loader', 'operator']);
    expect(await fileErrorOf()).toBeNull();
    transformer.start();
    await transformer.waitReady(60_000);
  });

  it('applies a changed source from the next poll (the extractor restarts the scheme between polls)', async () => {
    const pageSizes = async () =>
      ((await stack.wdtAdmin('GET', '/requests?limit=200')) as Array<{ params: Record<string, string> }>).map(
        (r) => r.params.page_size,
      );
    expect(await pageSizes()).toContain('100'); // the shipped scheme sets none: the native default
    const restarts = logged('extractor', 'scheme file changed: extraction follows').length;
    goodText = edit((doc) => doc.setIn(['source', 'pageSize'], 7));
    await saveAndWait(goodText, 'scheme reloaded');
    // The extractor restarts the scheme once the poll under way ends: after the reload, not with it.
    const [restart] = await eventually('the extractor to restart the scheme', async () => {
      const lines = logged('extractor', 'scheme file changed: extraction follows').slice(restarts);
      return lines.length > 0 ? lines : undefined;
    });
    expect(restart).toMatchObject({ scheme: SCHEME, change: 'changed', polling: true });
    // Every request after the first one with the new page size has it too: no old poll runs on.
    const sizes = await eventually('a WDT call with page_size 7', async () => {
      const all = await pageSizes();
      const first = all.indexOf('7');
      return first >= 0 && all.length > first + 1 ? all.slice(first) : undefined;
    });
    expect(new Set(sizes)).toEqual(new Set(['7']));
    await seed('RL-S');
    expect((await auditedBill('RL-S')).FDESCRIPTION).toBe('控制台 RL-S');
  });

  it('stops polling WDT when the scheme is disabled in the file, and picks the orders up once enabled again', async () => {
    expect(await extractorStatus()).toHaveLength(1);
    const disabled = edit((doc) => doc.set('enabled', false));
    await saveAndWait(disabled, 'scheme reloaded');
    await eventually('the extractor withdrew the scheme', async () => {
      const lines = logged('extractor', 'scheme file changed: extraction follows');
      return lines.at(-1)?.polling === false && (await extractorStatus()).length === 0;
    });
    const calls = async () => (await stack.wdtAdmin('GET', '/stats')).calls.native as number;
    const before = await calls();
    await seed('RL-5');
    // Three poll intervals: an extractor still polling would have called WDT and extracted RL-5.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await calls()).toBe(before);
    expect(
      await ds.query(`SELECT 1 FROM audit_orders WHERE scheme_id = $1 AND source_key = 'RL-5'`, [SCHEME]),
    ).toEqual([]);

    await saveAndWait(goodText, 'scheme reloaded');
    expect((await auditedBill('RL-5')).FDESCRIPTION).toBe('控制台 RL-5');
    expect(await calls()).toBeGreaterThan(before);
    await eventually(
      'the extractor reports the scheme again',
      async () => (await extractorStatus()).length === 1,
    );
  });
});
