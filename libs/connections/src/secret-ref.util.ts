import { readFileSync } from 'node:fs';
import { ConnectionsConfigError } from './connections.errors';
import { SecretRef } from './connections.schema';

/**
 * Reads a secret reference: an environment variable, or a file (a mounted Kubernetes Secret; its
 * trailing newline is dropped). Errors name the connection, the field and the reference, never a value.
 */
export function resolveSecret(
  ref: SecretRef,
  where: { kind: 'wdt' | 'kingdee'; connection: string; field: string },
  env: Record<string, string | undefined>,
): string {
  const prefix = `${where.kind === 'wdt' ? 'WDT' : 'Kingdee'} connection "${where.connection}": ${where.field}`;
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value === '')
      throw new ConnectionsConfigError(
        `${prefix} refers to environment variable ${ref.env}, which is not set`,
      );
    return value;
  }
  let text: string;
  try {
    text = readFileSync(ref.file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConnectionsConfigError(`${prefix} refers to file ${ref.file}, which cannot be read (${code})`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new ConnectionsConfigError(`${prefix} refers to file ${ref.file}, which is empty`);
  return value;
}
