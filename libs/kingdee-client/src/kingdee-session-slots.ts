/** What a process asks of an account's shared session cap. */
export interface KingdeeSlotHoldRequest {
  /** The account set (`@libs/connections`' `KingdeeConnection.account`). */
  account: string;
  /** The account's session cap, shared by every process (all must agree on it). */
  cap: number;
  /** Slots this process could use (its pool size); it keeps asking while it holds fewer. */
  want: number;
  /** Called whenever the number of slots this process may use changes (a lost lease included). */
  onChange: (held: number) => void;
  /**
   * Slots the caller is using right now. A slot given up for another process stays leased until this
   * falls to what is held, so a call in flight never shares its slot with a new login elsewhere.
   */
  inUse?: () => number;
}

export interface KingdeeSlotHold {
  /** Slots this process may use now (0 while it waits for one, or after it lost a lease it could not renew). */
  held(): number;
  /** Gives every slot back and stops renewing. */
  release(): Promise<void>;
}

/**
 * An account's session cap shared by all processes (licences are limited: MsgCode 7). Implemented over
 * Postgres by `@libs/shared-limits` (`PostgresKingdeeSlotLeases`).
 */
export interface KingdeeSlotLeases {
  /** Leases up to `want` slots of `account` (cap `cap`), renewing them; calls back when the held count changes. */
  hold(req: KingdeeSlotHoldRequest): Promise<KingdeeSlotHold>;
}

/** A session pool's share of an account's cap: it uses at most `held()` sessions at once, logins included. */
export interface KingdeeSessionSlots {
  leases: KingdeeSlotLeases;
  account: string;
  cap: number;
}
