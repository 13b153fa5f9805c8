// A scheme file as the editor's three forms (source query, mapping table, check parameters) and
// back. The YAML stays the source of truth: the form is read from it, and saving writes only the
// values that changed into the parsed YAML document, so keys the form does not show and every
// comment on untouched lines survive the round trip.
import { isMap, isSeq, parseDocument, type Document } from 'yaml';

export const FIELD_KINDS = ['template', 'formula', 'const'] as const;
export type FieldKind = (typeof FIELD_KINDS)[number];
export const FIELD_TYPES = ['string', 'ref', 'decimal', 'integer', 'date', 'datetime', 'boolean'] as const;
export const PRECONDITION_OPERATORS = [
  'in',
  'notIn',
  'equals',
  'notEquals',
  'exists',
  'nonEmpty',
  'minItems',
  'formula',
] as const;
export type PreconditionOperator = (typeof PRECONDITION_OPERATORS)[number];

export interface MappingRow {
  /** `header` or `entries.<index>` (the entry array's position in the file). */
  section: string;
  field: string;
  kind: FieldKind;
  expression: string;
  type: string;
  valueMap?: string;
  required: boolean;
}

export interface PreconditionRow {
  name: string;
  field?: string;
  operator: PreconditionOperator;
  value: string;
  reason?: string;
}

export interface SchemeForm {
  id: string;
  name: string;
  description: string;
  source: {
    /** The WDT connection (`source.connection`; absent in the file: `default`). */
    connection: string;
    method: string;
    params: { name: string; value: string }[];
    statusFilter?: string;
    /** Absent: by gateway (native 100, Qimen 30). */
    pageSize?: number;
    pageOrder: string;
    cursorAxis: string;
    lookback: string;
    safetyLag: string;
    maxWindow: string;
  };
  target: {
    /** The Kingdee connection (`target.connection`; absent in the file: `default`). */
    connection: string;
  };
  mapping: MappingRow[];
  check: {
    pollInterval: string;
    transferTime?: string;
    retryCount: number;
    enabled: boolean;
    preconditions: PreconditionRow[];
  };
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown, fallback = ''): string => (v === undefined || v === null ? fallback : String(v));

function fieldRow(section: string, field: string, spec: Json): MappingRow {
  const kind: FieldKind = 'formula' in spec ? 'formula' : 'const' in spec ? 'const' : 'template';
  return {
    section,
    field,
    kind,
    expression: str(spec[kind]),
    type: str(spec.type, 'string'),
    ...(spec.valueMap !== undefined ? { valueMap: str(spec.valueMap) } : {}),
    required: spec.required === true,
  };
}

function preconditionRow(p: Json): PreconditionRow {
  const operator = PRECONDITION_OPERATORS.find((op) => op in p) ?? 'formula';
  const raw = p[operator];
  return {
    name: str(p.name),
    ...(p.field !== undefined ? { field: str(p.field) } : {}),
    operator,
    value: Array.isArray(raw) ? raw.map((v) => String(v)).join(', ') : str(raw),
    ...(p.reason !== undefined ? { reason: str(p.reason) } : {}),
  };
}

/** The form model of a scheme object (parsed YAML, defaults not applied). */
export function schemeToForm(scheme: unknown): SchemeForm {
  const s = obj(scheme);
  const source = obj(s.source);
  const cursor = obj(source.cursor);
  const mapping = obj(s.mapping);
  const rows: MappingRow[] = Object.entries(obj(mapping.header)).map(([f, spec]) =>
    fieldRow('header', f, obj(spec)),
  );
  (Array.isArray(mapping.entries) ? mapping.entries : []).forEach((entry, i) => {
    for (const [f, spec] of Object.entries(obj(obj(entry).fields)))
      rows.push(fieldRow(`entries.${i}`, f, obj(spec)));
  });
  const schedule = obj(s.schedule);
  return {
    id: str(s.id),
    name: str(s.name),
    description: str(s.description),
    source: {
      connection: str(source.connection, 'default'),
      method: str(source.method),
      params: Object.entries(obj(source.params)).map(([name, value]) => ({ name, value: str(value) })),
      ...(obj(source.filters).status !== undefined ? { statusFilter: str(obj(source.filters).status) } : {}),
      ...(source.pageSize !== undefined ? { pageSize: Number(source.pageSize) } : {}),
      pageOrder: str(source.pageOrder, 'last_to_first'),
      cursorAxis: str(cursor.axis, 'auto'),
      lookback: str(cursor.lookback, '10m'),
      safetyLag: str(cursor.safetyLag, '1s'),
      maxWindow: str(cursor.maxWindow, '30d'),
    },
    target: { connection: str(obj(s.target).connection, 'default') },
    mapping: rows,
    check: {
      pollInterval: str(schedule.pollInterval, '2s'),
      ...(schedule.transferTime !== undefined ? { transferTime: str(schedule.transferTime) } : {}),
      retryCount: Number(obj(s.retry).count ?? 3),
      enabled: s.enabled !== false,
      preconditions: (Array.isArray(s.preconditions) ? s.preconditions : []).map((p) =>
        preconditionRow(obj(p)),
      ),
    },
  };
}

/** Parses YAML text into the form (throws the YAML parser's error on broken text). */
export function yamlToForm(text: string): SchemeForm {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw doc.errors[0];
  return schemeToForm(doc.toJS());
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

type Path = (string | number)[];

/** A connection name: `default` is written only where the file names a connection already. */
function setConnection(doc: Document, path: Path, value: string | undefined): void {
  if (!value || (value === 'default' && !doc.hasIn(path))) return;
  setIfChanged(doc, path, value);
}

function setIfChanged(doc: Document, path: Path, value: unknown): void {
  const current = doc.getIn(path);
  const plain =
    current && typeof current === 'object' && 'toJSON' in current
      ? (current as { toJSON(): unknown }).toJSON()
      : current;
  if (value === undefined || value === '') {
    if (doc.hasIn(path)) doc.deleteIn(path);
    return;
  }
  if (same(plain, value)) return;
  doc.setIn(path, value);
}

function constValue(text: string, previous: unknown): unknown {
  if (typeof previous === 'number' && text.trim() !== '' && Number.isFinite(Number(text)))
    return Number(text);
  if (typeof previous === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

function sectionPath(section: string): Path {
  if (section === 'header') return ['mapping', 'header'];
  const index = Number(section.split('.')[1]);
  return ['mapping', 'entries', index, 'fields'];
}

function applyField(doc: Document, base: Path, row: MappingRow): void {
  const path = [...base, row.field];
  const existing = doc.getIn(path);
  if (!isMap(existing)) {
    const spec: Json = {
      [row.kind]: row.kind === 'const' ? constValue(row.expression, undefined) : row.expression,
    };
    if (row.type && row.type !== 'string') spec.type = row.type;
    if (row.valueMap) spec.valueMap = row.valueMap;
    if (row.required) spec.required = true;
    doc.setIn(path, doc.createNode(spec, { flow: true }));
    return;
  }
  for (const kind of FIELD_KINDS) if (kind !== row.kind && existing.has(kind)) existing.delete(kind);
  const previous = existing.get(row.kind);
  setIfChanged(
    doc,
    [...path, row.kind],
    row.kind === 'const' ? constValue(row.expression, previous) : row.expression,
  );
  if (!(row.type === 'string' && !existing.has('type'))) setIfChanged(doc, [...path, 'type'], row.type);
  setIfChanged(doc, [...path, 'valueMap'], row.valueMap || undefined);
  if (row.required || existing.has('required')) setIfChanged(doc, [...path, 'required'], row.required);
}

function preconditionValue(row: PreconditionRow): unknown {
  switch (row.operator) {
    case 'in':
    case 'notIn':
      return row.value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
    case 'exists':
    case 'nonEmpty':
      return row.value.trim() !== 'false';
    case 'minItems':
      return Number(row.value || 0);
    default:
      return row.value;
  }
}

function applyPrecondition(doc: Document, index: number, row: PreconditionRow): void {
  const path: Path = ['preconditions', index];
  const existing = doc.getIn(path);
  if (!isMap(existing)) {
    const node: Json = { name: row.name };
    if (row.operator !== 'formula' && row.field) node.field = row.field;
    node[row.operator] = preconditionValue(row);
    if (row.reason) node.reason = row.reason;
    if (isSeq(doc.getIn(['preconditions']))) doc.addIn(['preconditions'], doc.createNode(node));
    else doc.setIn(['preconditions'], doc.createNode([node]));
    return;
  }
  for (const op of PRECONDITION_OPERATORS) if (op !== row.operator && existing.has(op)) existing.delete(op);
  setIfChanged(doc, [...path, 'name'], row.name);
  setIfChanged(doc, [...path, 'field'], row.operator === 'formula' ? undefined : row.field);
  setIfChanged(doc, [...path, row.operator], preconditionValue(row));
  setIfChanged(doc, [...path, 'reason'], row.reason);
}

/**
 * The YAML of `base` with the form's values written in. Untouched values keep their text, style and
 * comments; keys the form does not model (target, valueMaps, retry delays, …) are left as they are.
 */
export function formToYaml(form: SchemeForm, base: string): string {
  const doc = parseDocument(base);
  if (doc.errors.length > 0) throw doc.errors[0];
  setIfChanged(doc, ['id'], form.id);
  setIfChanged(doc, ['name'], form.name);
  setIfChanged(doc, ['description'], form.description || undefined);

  const s = form.source;
  setConnection(doc, ['source', 'connection'], s.connection);
  setConnection(doc, ['target', 'connection'], form.target?.connection);
  setIfChanged(doc, ['source', 'method'], s.method);
  const keptParams = new Set(s.params.map((p) => p.name).filter(Boolean));
  const params = doc.getIn(['source', 'params']);
  if (isMap(params)) {
    for (const item of [...params.items]) {
      const key = String((item.key as { value?: unknown })?.value ?? item.key);
      if (!keptParams.has(key)) params.delete(key);
    }
  }
  for (const p of s.params) if (p.name) setIfChanged(doc, ['source', 'params', p.name], p.value);
  setIfChanged(doc, ['source', 'filters', 'status'], s.statusFilter || undefined);
  setIfChanged(
    doc,
    ['source', 'pageSize'],
    s.pageSize === undefined || s.pageSize === null ? undefined : Number(s.pageSize),
  );
  setIfChanged(doc, ['source', 'pageOrder'], s.pageOrder);
  setIfChanged(doc, ['source', 'cursor', 'axis'], s.cursorAxis);
  setIfChanged(doc, ['source', 'cursor', 'lookback'], s.lookback);
  setIfChanged(doc, ['source', 'cursor', 'safetyLag'], s.safetyLag);
  setIfChanged(doc, ['source', 'cursor', 'maxWindow'], s.maxWindow);

  const sections = new Map<string, MappingRow[]>();
  for (const row of form.mapping) sections.set(row.section, [...(sections.get(row.section) ?? []), row]);
  const knownSections = new Set(['header', ...sections.keys()]);
  const entries = doc.getIn(['mapping', 'entries']);
  if (isSeq(entries)) entries.items.forEach((_, i) => knownSections.add(`entries.${i}`));
  for (const section of knownSections) {
    const base = sectionPath(section);
    const rows = sections.get(section) ?? [];
    const fields = doc.getIn(base);
    if (isMap(fields)) {
      const kept = new Set(rows.map((r) => r.field));
      for (const item of [...fields.items]) {
        const key = String((item.key as { value?: unknown })?.value ?? item.key);
        if (!kept.has(key)) fields.delete(key);
      }
    }
    for (const row of rows) if (row.field) applyField(doc, base, row);
  }

  const c = form.check;
  setIfChanged(doc, ['schedule', 'pollInterval'], c.pollInterval);
  setIfChanged(doc, ['schedule', 'transferTime'], c.transferTime || undefined);
  setIfChanged(doc, ['retry', 'count'], Number(c.retryCount));
  setIfChanged(doc, ['enabled'], c.enabled);
  const pre = doc.getIn(['preconditions']);
  if (isSeq(pre)) while (pre.items.length > c.preconditions.length) pre.items.pop();
  c.preconditions.forEach((row, i) => applyPrecondition(doc, i, row));
  // The yaml library re-renders some comments (`key: # note` moves below the key); where nothing
  // changed the original text is returned as is, so merely opening and saving never churns a file.
  const options = { lineWidth: 0, flowCollectionPadding: false } as const;
  const out = doc.toString(options);
  return out === parseDocument(base).toString(options) ? base : out;
}
