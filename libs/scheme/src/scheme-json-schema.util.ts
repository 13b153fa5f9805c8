import { z } from 'zod';
import { SchemeSchema } from './scheme.schema';

/**
 * JSON Schema (draft 2020-12) of a scheme file as written (defaults not applied), generated from
 * the zod schema. Editors use it for completion (`# yaml-language-server: $schema=./scheme.schema.json`).
 * It covers shape only; `parseScheme` also checks templates, formulas, value maps, cron and more.
 * `schemes/scheme.schema.json` is this output; a unit test keeps the two equal.
 */
export function schemeJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(SchemeSchema, { io: 'input', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: 'https://wdt-kingdee-sync.local/schemes/scheme.schema.json',
    title: 'WDT → Kingdee integration scheme',
    description:
      'One integration scheme: source query (WDT), mapping and preconditions, target (Kingdee K/3 Cloud). ' +
      'Shape only; run `npm run scheme:check` for the full validation.',
    ...rest,
  };
}

/** The committed file's text: 2-space JSON plus a newline. */
export function schemeJsonSchemaText(): string {
  return `${JSON.stringify(schemeJsonSchema(), null, 2)}\n`;
}
