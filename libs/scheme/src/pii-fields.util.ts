import { FieldSpec, Scheme } from './scheme.schema';
import { parseTemplate } from './template.util';

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

/**
 * Source fields (the last segment of each placeholder) that mappings flagged `pii: true` read by
 * template: the same personal data sits in the WDT record an operator view shows next to the body.
 * Receiver fields are masked anyway; a formula's reads are not followed (flag its source yourself).
 */
export function piiSourceFields(scheme: Scheme): Set<string> {
  const out = new Set<string>();
  const add = (spec: FieldSpec) => {
    if (spec.pii !== true || spec.template === undefined) return;
    try {
      for (const part of parseTemplate(spec.template).parts)
        if (part.kind === 'var') out.add(part.path[part.path.length - 1]);
    } catch {
      /* a broken template is reported by the scheme check */
    }
  };
  for (const spec of Object.values(scheme.mapping.header)) add(spec);
  for (const entry of scheme.mapping.entries) for (const spec of Object.values(entry.fields)) add(spec);
  return out;
}
