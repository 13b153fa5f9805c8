/** No account set with the acctId an admin request names. */
export class UnknownAccountError extends Error {
  constructor(readonly acctId: string) {
    super(`no account ${acctId}`);
    this.name = 'UnknownAccountError';
  }
}

/** An account set that cannot be added (its acctId is taken). */
export class AccountConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountConflictError';
  }
}
