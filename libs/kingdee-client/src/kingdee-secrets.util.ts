/**
 * Holds the values that must never leave the client (password, app secret, derived client secret,
 * session ids) in private fields, and scrubs them out of any text that goes into errors or logs.
 */
export class KingdeeSecrets {
  #values = new Set<string>();

  constructor(values: Array<string | undefined> = []) {
    for (const v of values) this.add(v);
  }

  add(value: string | undefined | null): void {
    if (value && value.length >= 3) this.#values.add(value);
  }

  delete(value: string | undefined | null): void {
    if (value) this.#values.delete(value);
  }

  /** Replaces every known secret in `text` by `***`. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.#values) out = out.split(secret).join('***');
    return out;
  }

  toJSON(): string {
    return '[redacted]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'KingdeeSecrets [redacted]';
  }
}
