/** Replaces every occurrence of any secret in `text` with `***`. Empty secrets are ignored. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  const sorted = secrets.filter((s): s is string => !!s).sort((a, b) => b.length - a.length);
  for (const secret of sorted) out = out.split(secret).join('***');
  return out;
}
