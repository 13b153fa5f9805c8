import { FieldSpec, Scheme } from './scheme.schema';

const RECEIVER = /receiver_(name|mobile|telno|address|area|zip)/;

function isPii(spec: FieldSpec): boolean {
  return spec.pii === true || RECEIVER.test(spec.template ?? '') || RECEIVER.test(spec.formula ?? '');
}

/**
 * Target field keys (the last segment of each target path) holding personal data: flagged
 * `pii: true`, or reading a receiver field. Operator views mask their values in request bodies.
 */
export function piiTargetFields(scheme: Scheme): Set<string> {
  const out = new Set<string>();
  const add = (key: string, spec: FieldSpec) => {
    if (!isPii(spec)) return;
    out.add(key);
    if (spec.target) out.add(spec.target.split('.').at(-1)!);
  };
  for (const [key, spec] of Object.entries(scheme.mapping.header)) add(key, spec);
  for (const entry of scheme.mapping.entries)
    for (const [key, spec] of Object.entries(entry.fields)) add(key, spec);
  return out;
}
