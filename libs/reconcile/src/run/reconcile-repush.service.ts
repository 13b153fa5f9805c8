// STAND-IN: replaced by the engine branch. Never finds a requested re-push.
import { DataSource } from 'typeorm';
import type { AppLogger } from '@libs/common';
import type { KingdeeApi } from '@libs/kingdee-client';
import type { Scheme } from '@libs/scheme';

export class ReconcileRepushService {
  constructor(
    private readonly deps: {
      ds: DataSource;
      schemes: (id: string) => Scheme | undefined;
      kingdee: KingdeeApi;
      logger?: AppLogger;
    },
  ) {}

  async runOne(owner: string, leaseMs: number, schemeIds?: readonly string[]): Promise<boolean> {
    void this.deps;
    void owner;
    void leaseMs;
    void schemeIds;
    return false;
  }
}
