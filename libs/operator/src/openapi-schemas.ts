import { z } from 'zod';
import {
  ActionView,
  AuditOrderDetailView,
  AuditOrderView,
  DeadLetterDetailView,
  DeadLetterView,
  ErrorView,
  RepushView,
  ResyncRequestView,
  SchemesView,
  StatsView,
} from './operator-api.schema';
import { CONSOLE_READ_COMPONENTS } from './console-read.schema';
import { SCHEME_EDITING_COMPONENTS } from './scheme-editing.schema';
import { SESSION_COMPONENTS } from './session.schema';
import { WORK_REQUEST_COMPONENTS } from './work-requests.schema';
import { RECONCILE_COMPONENTS } from './reconciliations.schema';
import { CONNECTION_COMPONENTS } from './connections.schema';

type Json = Record<string, unknown>;

/** Response shapes that appear under components.schemas (and are referenced, not repeated). */
const COMPONENTS = z.registry<{ id: string }>();
for (const [id, schema] of Object.entries({
  Error: ErrorView,
  AuditOrder: AuditOrderView,
  AuditOrderDetail: AuditOrderDetailView,
  DeadLetter: DeadLetterView,
  DeadLetterDetail: DeadLetterDetailView,
  ResyncRequest: ResyncRequestView,
  Action: ActionView,
  Stats: StatsView,
  Schemes: SchemesView,
  Repush: RepushView,
  ...CONSOLE_READ_COMPONENTS,
  ...SCHEME_EDITING_COMPONENTS,
  ...SESSION_COMPONENTS,
  ...WORK_REQUEST_COMPONENTS,
  ...RECONCILE_COMPONENTS,
  ...CONNECTION_COMPONENTS,
})) {
  COMPONENTS.add(schema, { id });
}

/** Points $defs references at components; drops the noise zod adds (format regexes, safe-int bounds). */
function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy);
  if (node && typeof node === 'object') {
    const obj = { ...(node as Json) };
    if (typeof obj.format === 'string' && typeof obj.pattern === 'string') delete obj.pattern;
    // z.int() states the safe-integer range; that says nothing to a reader.
    if (obj.minimum === Number.MIN_SAFE_INTEGER) delete obj.minimum;
    if (obj.maximum === Number.MAX_SAFE_INTEGER) delete obj.maximum;
    if (typeof obj.$ref === 'string') obj.$ref = obj.$ref.replace(/^#\/\$defs\//, '#/components/schemas/');
    for (const [k, v] of Object.entries(obj)) obj[k] = tidy(v);
    return obj;
  }
  return node;
}

/**
 * zod → JSON Schema for the OpenAPI document. The route decorators convert their schemas when the
 * controllers load; registered response shapes are collected here as `#/components/schemas/<id>`.
 */
class OpenApiSchemas {
  readonly components: Record<string, Json> = {};

  convert(schema: z.ZodType, io: 'input' | 'output'): Json {
    const id = COMPONENTS.get(schema)?.id;
    // A registered schema is emitted into $defs only when nested: wrap it to collect it.
    const out = z.toJSONSchema(id ? z.object({ value: schema }) : schema, {
      io,
      unrepresentable: 'any',
      metadata: COMPONENTS,
    }) as Json;
    for (const [name, def] of Object.entries((out.$defs ?? {}) as Record<string, Json>))
      this.components[name] = tidy(def) as Json;
    delete out.$defs;
    delete out.$schema;
    return id ? { $ref: `#/components/schemas/${id}` } : (tidy(out) as Json);
  }

  /** One parameter per property of an object schema (path parameters are always required). */
  parameters(schema: z.ZodType, where: 'path' | 'query'): Json[] {
    const json = this.convert(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
    return Object.entries(json.properties ?? {}).map(([name, s]) => {
      const { description, ...rest } = s;
      return {
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        ...(description ? { description } : {}),
        schema: rest,
      };
    });
  }
}

export const openApiSchemas = new OpenApiSchemas();

/** `/api/dead-letters/:id` → `/api/dead-letters/{id}`. */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}
