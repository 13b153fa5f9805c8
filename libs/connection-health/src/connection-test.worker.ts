import { DataSource } from 'typeorm';
import { AppLogger, silentLogger } from '@libs/common';
import { WorkPoller } from '@libs/work-requests';
import { ConnectionTestStore } from './connection-test.store';
import { ConnectionKind, ConnectionTestResult } from './connection-test.util';

export interface ConnectionTestWorkerOptions {
  ds: DataSource;
  kind: ConnectionKind;
  /** The connections of `kind` this process holds the secrets of. */
  names: () => readonly string[];
  test: (name: string) => Promise<ConnectionTestResult>;
  owner: string;
  pollMs: number;
  logger?: AppLogger;
}

/**
 * Answers the connection tests operators request (`POST /api/connections/{kind}/{name}/test`): the
 * extractor those of WDT connections, the loader those of Kingdee connections.
 */
export class ConnectionTestWorker extends WorkPoller {
  constructor(options: ConnectionTestWorkerOptions) {
    const store = new ConnectionTestStore(options.ds);
    const logger = options.logger ?? silentLogger;
    super(
      `connection-test:${options.kind}`,
      async () => {
        const claimed = await store.claim(options.kind, options.names(), options.owner, 30_000);
        if (!claimed) return false;
        const result = await options.test(claimed.name);
        logger.info(
          {
            connection: claimed.name,
            kind: options.kind,
            ok: result.ok,
            ms: result.ms,
            errorKind: result.errorKind,
          },
          'connection test answered',
        );
        await store.answer(claimed.id, options.owner, result);
        return true;
      },
      { pollMs: options.pollMs, owner: options.owner, logger },
    );
  }
}
