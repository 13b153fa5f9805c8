/** A reader broke the merge's contract (keys out of order, one key for two orders, a bill split up). */
export class ReconcileInputError extends Error {
  override readonly name = 'ReconcileInputError';
}
