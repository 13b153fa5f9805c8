// Where in the editor a validation issue belongs: `scheme:check` reports paths into the scheme
// (`mapping.header.FDate.formula`); the editor shows them at the form item that edits that value.
import type { SchemeForm } from './scheme-form.util';

export type EditorStep = 'source' | 'mapping' | 'check' | 'yaml';
export type FieldName = (string | number)[];

export interface IssueTarget {
  step: EditorStep;
  /** The form item (antd `name`) or null when the value is only editable in the YAML tab. */
  name: FieldName | null;
}

const CURSOR_FIELDS: Record<string, string> = {
  axis: 'cursorAxis',
  lookback: 'lookback',
  safetyLag: 'safetyLag',
  maxWindow: 'maxWindow',
};

function mappingColumn(prop: unknown): string {
  if (prop === 'type' || prop === 'valueMap' || prop === 'required') return prop;
  return 'expression';
}

function preconditionColumn(prop: unknown): string {
  if (prop === 'name' || prop === 'field' || prop === 'reason') return prop;
  return 'value';
}

export function issueTarget(path: readonly (string | number)[], form: SchemeForm): IssueTarget {
  const [head, a, b, c, d, e] = path;
  switch (head) {
    case 'id':
    case 'name':
    case 'description':
      return { step: 'source', name: [head] };
    case 'source': {
      if (a === 'method' || a === 'pageSize' || a === 'pageOrder')
        return { step: 'source', name: ['source', a] };
      if (a === 'params' && typeof b === 'string') {
        const index = form.source.params.findIndex((p) => p.name === b);
        return { step: 'source', name: index >= 0 ? ['source', 'params', index, 'value'] : null };
      }
      if (a === 'cursor' && typeof b === 'string' && CURSOR_FIELDS[b]) {
        return { step: 'source', name: ['source', CURSOR_FIELDS[b]] };
      }
      if (a === 'filters' && b === 'status') return { step: 'source', name: ['source', 'statusFilter'] };
      return { step: 'source', name: null };
    }
    case 'mapping': {
      let section: string | null = null;
      let field: unknown;
      let prop: unknown;
      if (a === 'header') [section, field, prop] = ['header', b, c];
      else if (a === 'entries' && typeof b === 'number' && c === 'fields')
        [section, field, prop] = [`entries.${b}`, d, e];
      if (section === null || typeof field !== 'string') return { step: 'mapping', name: null };
      const index = form.mapping.findIndex((r) => r.section === section && r.field === field);
      return { step: 'mapping', name: index >= 0 ? ['mapping', index, mappingColumn(prop)] : null };
    }
    case 'valueMaps':
      return { step: 'mapping', name: null };
    case 'schedule':
      if (a === 'pollInterval' || a === 'transferTime') return { step: 'check', name: ['check', a] };
      return { step: 'check', name: null };
    case 'retry':
      return { step: 'check', name: a === 'count' ? ['check', 'retryCount'] : null };
    case 'enabled':
      return { step: 'check', name: ['check', 'enabled'] };
    case 'preconditions':
      if (typeof a === 'number' && a < form.check.preconditions.length) {
        return { step: 'check', name: ['check', 'preconditions', a, preconditionColumn(b)] };
      }
      return { step: 'check', name: null };
    default:
      return { step: 'yaml', name: null };
  }
}

/** `mapping.header.FDate.formula` — how an issue's path reads in a message. */
export function formatIssuePath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(root)';
}
