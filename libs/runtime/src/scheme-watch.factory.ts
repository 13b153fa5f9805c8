import * as path from 'node:path';
import { DataSource } from 'typeorm';
import {
  BillClaimEntity,
  SchemeKeyEntity,
  ServiceStatusStore,
  StockoutFingerprintEntity,
  SyncCursorEntity,
} from '@libs/database';
import { Provider } from '@nestjs/common';
import { AppLogger } from '@libs/common';
import { ConnectionRegistry, schemeIdentityOf } from '@libs/connections';
import { CONFIG, CONNECTIONS, DATA_SOURCE, INSTANCE, LOGGER, SERVICE_NAME } from './tokens';
import { CommonConfig } from '@libs/config';
import {
  idempotencyKeyChanged,
  idempotencyKeyRefusal,
  Scheme,
  SchemeFileProblem,
  SchemeWatcher,
} from '@libs/scheme';

/** service_status key of a scheme file's problem, as /api/schemes reads it (`fileError`). */
export const SCHEME_FILE_STATUS_PREFIX = 'scheme_file:';

/** Bill claims of a scheme (libs/loading): a changed idempotency key would no longer find their bills. */
export async function countBillClaims(ds: DataSource, schemeId: string): Promise<number> {
  return ds.getRepository(BillClaimEntity).countBy({ schemeId });
}

type IdempotencyKey = Scheme['target']['idempotencyKey'];

/** The key a scheme's bill claims were made under, as recorded by the services that took it. */
async function recordedKey(ds: DataSource, schemeId: string): Promise<IdempotencyKey | undefined> {
  const row = await ds
    .getRepository(SchemeKeyEntity)
    .findOne({ select: { field: true, source: true }, where: { schemeId } });
  return row ? { field: row.field, source: row.source } : undefined;
}

/**
 * Why `next` may not be taken because of its target.idempotencyKey, or undefined. The key is compared
 * with the one recorded in Postgres (scheme_keys), else with `previous`: a process that just started
 * has no previous version, and one holding a refused file must still take the recorded key back.
 */
export async function schemeKeyRefusal(
  ds: DataSource,
  next: Scheme,
  previous?: Scheme,
): Promise<string | undefined> {
  const before = (await recordedKey(ds, next.id)) ?? previous?.target.idempotencyKey;
  const key = next.target.idempotencyKey;
  // Only a changed key costs a count.
  if (!before || (before.field === key.field && before.source === key.source)) return undefined;
  return idempotencyKeyRefusal(
    { target: { idempotencyKey: before } },
    next,
    await countBillClaims(ds, next.id),
  );
}

/** Records the key of a scheme version a service took (a no-op when it is the recorded one). */
export async function recordSchemeKey(ds: DataSource, scheme: Scheme): Promise<void> {
  const { field, source } = scheme.target.idempotencyKey;
  // Raw: an upsert whose update applies only when the key changed (recorded_at keeps the first take).
  await ds.query(
    `INSERT INTO scheme_keys (scheme_id, field, source) VALUES ($1, $2, $3)
     ON CONFLICT (scheme_id) DO UPDATE SET field = EXCLUDED.field, source = EXCLUDED.source, recorded_at = now()
     WHERE scheme_keys.field IS DISTINCT FROM EXCLUDED.field OR scheme_keys.source IS DISTINCT FROM EXCLUDED.source`,
    [scheme.id, field, source],
  );
}

/**
 * The seller and the account a scheme reads and writes (from the connections), as far as this
 * process knows them (the extractor may not know Kingdee accounts, nor the loader WDT sellers).
 */
export type SchemeIdentityOf = (scheme: Scheme) => { sid?: string; account?: string };

/** Whether a scheme has state made with its seller and account: claims, a cursor or fingerprints. */
async function hasSchemeState(ds: DataSource, schemeId: string): Promise<boolean> {
  const held = await Promise.all([
    ds.getRepository(BillClaimEntity).existsBy({ schemeId }),
    ds.getRepository(SyncCursorEntity).existsBy({ schemeId }),
    ds.getRepository(StockoutFingerprintEntity).existsBy({ schemeId }),
  ]);
  return held.some(Boolean);
}

/**
 * Why `next` may not be taken because it reads another WDT seller or writes another Kingdee account
 * than its state was made with (order numbers are unique only per seller, bill keys per account:
 * its cursor, fingerprints and claims would be read against the wrong shop), or undefined.
 */
export async function schemeIdentityRefusal(
  ds: DataSource,
  next: Scheme,
  identity: SchemeIdentityOf,
): Promise<string | undefined> {
  const recorded = await ds
    .getRepository(SchemeKeyEntity)
    .findOne({ select: { sourceSid: true, targetAccount: true }, where: { schemeId: next.id } });
  if (!recorded) return undefined;
  const now = identity(next);
  const changes: string[] = [];
  if (now.sid && recorded.sourceSid && recorded.sourceSid !== now.sid)
    changes.push(`WDT seller (sid) ${recorded.sourceSid} → ${now.sid}`);
  if (now.account && recorded.targetAccount && recorded.targetAccount !== now.account)
    changes.push(`Kingdee account ${recorded.targetAccount} → ${now.account}`);
  if (changes.length === 0 || !(await hasSchemeState(ds, next.id))) return undefined;
  return (
    `scheme ${next.id} would change its ${changes.join(' and ')} (source.connection / target.connection), ` +
    `but it has a cursor, fingerprints or bill claims made with the old one: a new shop or account is a new scheme, give it a new id`
  );
}

/** Records the seller and account a scheme version was taken with (the parts this process knows). */
export async function recordSchemeIdentity(
  ds: DataSource,
  scheme: Scheme,
  identity: SchemeIdentityOf,
): Promise<void> {
  const { sid, account } = identity(scheme);
  if (!sid && !account) return;
  await ds
    .getRepository(SchemeKeyEntity)
    .update(
      { schemeId: scheme.id },
      { ...(sid ? { sourceSid: sid } : {}), ...(account ? { targetAccount: account } : {}) },
    );
}

/**
 * The boot check of a strictly loaded watcher: a scheme file whose key differs from the one its claims
 * were made under stops the start (as an invalid file does), saying why; otherwise the keys are recorded.
 */
export async function checkSchemeKeys(
  ds: DataSource,
  watcher: SchemeWatcher,
  identity?: SchemeIdentityOf,
): Promise<void> {
  const refusals: string[] = [];
  for (const scheme of watcher.schemes()) {
    const refusal =
      (await schemeKeyRefusal(ds, scheme)) ??
      (identity ? await schemeIdentityRefusal(ds, scheme, identity) : undefined);
    if (refusal) refusals.push(`${path.basename(watcher.fileOf(scheme.id) ?? scheme.id)}: ${refusal}`);
  }
  // No last good version to keep at boot: not starting is what keeps the old key.
  if (refusals.length > 0)
    throw new Error(`not starting: put the recorded key back in the file. ${refusals.join('\n')}`);
  for (const scheme of watcher.schemes()) {
    await recordSchemeKey(ds, scheme);
    if (identity) await recordSchemeIdentity(ds, scheme, identity);
  }
}

/**
 * The scheme watcher a service runs: polls SCHEMES_DIR every SCHEME_RELOAD_MS, refuses an
 * idempotency key change on a scheme with claims, and records each file's problem in service_status
 * (`scheme_file:<file>`, removed once the file is in use again) so operators see it in /api/schemes.
 * The first load happens here (an invalid file stops the boot, as before, unless `lenient`); then
 * `checkSchemeKeys` (a changed key stops the boot) and `start()` to poll.
 */
export function createSchemeWatcher(deps: {
  config: Pick<CommonConfig, 'SCHEMES_DIR' | 'SCHEME_RELOAD_MS'>;
  ds: DataSource;
  logger: AppLogger;
  service: string;
  instance: string;
  /** A further veto of the service (the transformer: the mapping must compile). */
  accept?: (next: Scheme, previous: Scheme | undefined) => Promise<string | undefined> | string | undefined;
  /** No strict first load (the operator boots with invalid files and shows them): call `check()`. */
  lenient?: boolean;
  /** The seller and account of a scheme: a scheme with state never changes either. */
  identity?: SchemeIdentityOf;
}): SchemeWatcher {
  const { ds, service, instance } = deps;
  const status = new ServiceStatusStore(ds, service, instance);
  const watcher = new SchemeWatcher({
    dir: deps.config.SCHEMES_DIR,
    intervalMs: deps.config.SCHEME_RELOAD_MS,
    logger: deps.logger,
    accept: async (next, previous) => {
      const own = await deps.accept?.(next, previous);
      if (own) return own;
      // The version in use has this key (it was checked when taken): no query, so a Postgres hiccup
      // cannot hold back an edit that leaves the key alone (a refused file is not checked again).
      const identity = deps.identity;
      const sameIdentity =
        !identity || (previous && JSON.stringify(identity(previous)) === JSON.stringify(identity(next)));
      if (previous && !idempotencyKeyChanged(previous, next) && sameIdentity) return undefined;
      const refused =
        (await schemeKeyRefusal(ds, next, previous)) ??
        (identity ? await schemeIdentityRefusal(ds, next, identity) : undefined);
      // Taken (this is the last veto): the key is now the one later versions are compared with.
      if (!refused) {
        await recordSchemeKey(ds, next);
        if (identity) await recordSchemeIdentity(ds, next, identity);
      }
      return refused;
    },
    onProblem: async (file, problem: SchemeFileProblem | null) => {
      const key = `${SCHEME_FILE_STATUS_PREFIX}${path.basename(file)}`;
      if (!problem) await status.remove(key);
      else await status.put(key, { ...problem, since: new Date().toISOString() });
    },
  });
  if (!deps.lenient) watcher.load();
  return watcher;
}

/** Removes this instance's scheme file reports (at shutdown). */
export async function clearSchemeFileStatus(
  ds: DataSource,
  service: string,
  instance: string,
): Promise<void> {
  await new ServiceStatusStore(ds, service, instance)
    .removeMatching(SCHEME_FILE_STATUS_PREFIX)
    .catch(() => undefined);
}

/** How a service's watcher judges a new scheme version beyond the shared rules. */
export interface SchemeWatcherProviderOptions {
  /** Compare the seller and account of schemes with state (services that hold connections). */
  identity?: boolean;
  /** A further veto, given the service's connections (the loader: its Kingdee connection must exist). */
  accept?: (
    connections: ConnectionRegistry | null,
  ) => (next: Scheme, previous: Scheme | undefined) => Promise<string | undefined> | string | undefined;
}

/**
 * The service's SchemeWatcher as a Nest provider (token `SchemeWatcher`), built the one way every
 * service builds it (see createSchemeWatcher); the service's worker checks the keys and starts it.
 */
export function schemeWatcherProvider(options: SchemeWatcherProviderOptions = {}): Provider {
  return {
    provide: SchemeWatcher,
    inject: [CONFIG, DATA_SOURCE, LOGGER, SERVICE_NAME, INSTANCE, CONNECTIONS],
    useFactory: (
      config: CommonConfig,
      ds: DataSource,
      logger: AppLogger,
      service: string,
      instance: string,
      connections: ConnectionRegistry | null,
    ) =>
      createSchemeWatcher({
        config,
        ds,
        logger,
        service,
        instance,
        identity: options.identity && connections ? schemeIdentityOf(connections) : undefined,
        accept: options.accept?.(connections),
      }),
  };
}

/**
 * The loaded schemes by id as a provider under `token`: one Map, updated in place by the watcher's
 * changes, that a service's engine reads per batch or run (a change applies without a restart).
 */
export function liveSchemesProvider(token: symbol): Provider {
  return {
    provide: token,
    inject: [SchemeWatcher],
    useFactory: (watcher: SchemeWatcher): Map<string, Scheme> => {
      const schemes = new Map(watcher.schemes().map((s) => [s.id, s]));
      watcher.onChange((changes) => {
        for (const change of changes) {
          if (change.kind === 'removed') schemes.delete(change.id);
          else schemes.set(change.id, change.scheme);
        }
      });
      return schemes;
    },
  };
}
