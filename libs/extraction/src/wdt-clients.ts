import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { WdtConnection } from '@libs/connections';
import { PostgresWdtCallGate } from '@libs/shared-limits';
import { createWdtClient, WdtStockoutReturnClient } from '@libs/wdt-client';

/**
 * One WDT client per connection in use, made on first use and shared by every scheme reading it;
 * its limiter is the connection's app key's, shared with every process and CLI through Postgres
 * (fair share per scheme).
 */
export class WdtClients {
  private readonly clients = new Map<string, WdtStockoutReturnClient>();
  /** Made with the first client: its heartbeat claims a share of the app key's budget. */
  private gate?: PostgresWdtCallGate;

  constructor(
    private readonly ds: DataSource,
    private readonly instance: string,
    private readonly logger: Logger,
  ) {}

  clientFor(connection: WdtConnection): WdtStockoutReturnClient {
    let client = this.clients.get(connection.name);
    if (!client) {
      this.gate ??= new PostgresWdtCallGate(this.ds, { instance: this.instance, logger: this.logger });
      client = createWdtClient(connection.clientOptions, this.logger.child({ connection: connection.name }), {
        gate: this.gate,
        budgetKey: connection.budgetKey,
        connection: connection.name,
      });
      this.clients.set(connection.name, client);
    }
    return client;
  }

  /** Names of the connections with a client. */
  names(): string[] {
    return [...this.clients.keys()];
  }

  async stop(): Promise<void> {
    await this.gate?.stop();
  }
}
