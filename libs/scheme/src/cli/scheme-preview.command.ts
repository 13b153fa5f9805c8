import { buildRequest, compileScheme, MappingError } from '@libs/mapping';
import * as fs from 'node:fs';
import { SchemeError, formatSchemeIssue } from '../scheme.errors';
import { loadSchemeFile } from '../scheme-file.util';
import type { CliIo } from './cli-io.util';

export const PREVIEW_EXIT = { document: 0, schemeOrInput: 1, mappingError: 2, skipped: 3 } as const;

/**
 * Picks the record from a file: a bare WDT record, or a response (`{"stockout_list": […]}`, Qimen's
 * `{"response": {"stockout_list": […]}}`) or an array, choosing element `index`.
 */
export function pickRecord(doc: unknown, index: number): unknown {
  let list: unknown = undefined;
  if (Array.isArray(doc)) list = doc;
  else if (doc !== null && typeof doc === 'object') {
    const o = doc as Record<string, unknown>;
    const response = o.response as Record<string, unknown> | undefined;
    if (Array.isArray(o.stockout_list)) list = o.stockout_list;
    else if (response && typeof response === 'object' && Array.isArray(response.stockout_list)) {
      list = response.stockout_list;
    }
  }
  if (list === undefined) return doc;
  const arr = list as unknown[];
  if (index < 0 || index >= arr.length)
    throw new Error(`the file holds ${arr.length} records; --index ${index} is out of range`);
  return arr[index];
}

/**
 * `scheme:preview <scheme> <wdt-record.json>`: prints the Kingdee request the scheme makes of one
 * record, or why it is skipped, or the mapping error. Exit codes: 0 document, 1 bad scheme/input,
 * 2 mapping error (would be dead-lettered), 3 skipped by a precondition.
 */
export async function runSchemePreview(
  schemeFile: string,
  recordFile: string,
  /** `sid`: the value of `{{$sid}}` / `$sid` (the sid of the shop the record comes from). */
  options: { index?: number; sid?: string },
  io: CliIo,
): Promise<number> {
  let compiled;
  try {
    compiled = compileScheme(loadSchemeFile(schemeFile));
  } catch (e) {
    if (e instanceof SchemeError) {
      for (const issue of e.issues) io.err(formatSchemeIssue(issue));
      return PREVIEW_EXIT.schemeOrInput;
    }
    throw e;
  }
  let record: unknown;
  try {
    record = pickRecord(JSON.parse(fs.readFileSync(recordFile, 'utf8')), options.index ?? 0);
  } catch (e) {
    io.err(`${recordFile}: ${(e as Error).message}`);
    return PREVIEW_EXIT.schemeOrInput;
  }
  try {
    const result = await compiled.map(record, options.sid !== undefined ? { sid: options.sid } : {});
    if (result.outcome === 'skipped') {
      io.out(`skipped ${result.billKey} by precondition ${result.precondition}: ${result.reason}`);
      return PREVIEW_EXIT.skipped;
    }
    io.err(`# ${compiled.scheme.id}: bill ${result.billKey}`);
    io.out(JSON.stringify(buildRequest(compiled.scheme, [result.model]), null, 2));
    return PREVIEW_EXIT.document;
  } catch (e) {
    if (e instanceof MappingError) {
      io.out(`mapping error [${e.code}]${e.billKey ? ` bill ${e.billKey}` : ''} ${e.message}`);
      return PREVIEW_EXIT.mappingError;
    }
    throw e;
  }
}
