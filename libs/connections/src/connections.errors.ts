/** A connections file or reference that cannot be used; the message names the connection and the field, never a secret. */
export class ConnectionsConfigError extends Error {
  override readonly name = 'ConnectionsConfigError';
}
