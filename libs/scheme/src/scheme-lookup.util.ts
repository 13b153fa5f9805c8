/**
 * The answer to a scheme id nobody configured, shared by the CLIs and the operator API:
 * `unknown scheme "nosuch"; known schemes: a, b`. Without it a resync request for a typo waits
 * forever, because no extractor runs that scheme.
 */
export function unknownSchemeMessage(id: string, known: readonly string[], where?: string): string {
  const list = [...new Set(known)].sort();
  return `unknown scheme "${id}"; known schemes: ${list.length > 0 ? list.join(', ') : '(none)'}${where ? ` (${where})` : ''}`;
}

export class UnknownSchemeError extends Error {
  override readonly name = 'UnknownSchemeError';
  constructor(
    readonly schemeId: string,
    readonly known: readonly string[],
    where?: string,
  ) {
    super(unknownSchemeMessage(schemeId, known, where));
  }
}

/** The scheme of `id` among `schemes`, or an UnknownSchemeError listing the known ids. */
export function findScheme<T extends { id: string }>(schemes: readonly T[], id: string, where?: string): T {
  const found = schemes.find((s) => s.id === id);
  if (!found)
    throw new UnknownSchemeError(
      id,
      schemes.map((s) => s.id),
      where,
    );
  return found;
}
