import { z } from 'zod';
import { SchemeIdParams } from './operator-api.schema';

/** Requests and answers of scheme editing (contract section 4). */

const yamlText = z.string().min(1).max(1_000_000).describe('The scheme file text (YAML; JSON is YAML too).');

export const SchemeRevisionParams = SchemeIdParams.extend({
  revision: z.coerce.number().int().min(0).describe('A revision number from the history.'),
});

export const ValidateSchemeBody = z.strictObject({ yaml: yamlText });
export const SaveSchemeBody = z.strictObject({
  yaml: yamlText,
  comment: z.string().max(500).optional().describe('Why; kept with the revision.'),
});
export const CreateSchemeBody = SaveSchemeBody;
export const RollbackSchemeBody = z.strictObject({
  comment: z.string().max(500).optional(),
});

export const SchemeIssueView = z.object({
  path: z
    .array(z.union([z.string(), z.number()]))
    .describe(
      'Path of the field in the scheme, e.g. ["mapping","entries",0,"fields","FRMREALQTY"]; [] for the file.',
    ),
  message: z.string(),
  line: z.number().int().optional().describe('1-based line in the YAML, when known.'),
  col: z.number().int().optional(),
});
export type SchemeIssueOut = z.infer<typeof SchemeIssueView>;

export const SchemeValidationView = z.object({
  valid: z.boolean(),
  issues: z.array(SchemeIssueView).describe('Exactly what `npm run scheme:check` reports.'),
  scheme: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe('The parsed scheme (defaults applied) when valid.'),
});

export const SchemeFileView = z.object({
  schemeId: z.string(),
  yaml: z.string(),
  etag: z.string().describe('sha256 of the file bytes (also the ETag header); send it as If-Match to save.'),
  writable: z
    .boolean()
    .describe(
      'False when SCHEMES_READ_ONLY or the directory cannot be written: the console offers a download.',
    ),
  path: z.string().describe('The file in SCHEMES_DIR.'),
  scheme: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe('The file parsed (null when it does not validate).'),
});

export const SchemeSavedView = z.object({
  schemeId: z.string(),
  etag: z.string(),
  revision: z.number().int(),
  path: z.string(),
});

export const SchemeRevisionView = z.object({
  revision: z.number().int().describe('0: the file as it was before its first save through the API.'),
  author: z.string(),
  comment: z.string().nullable(),
  createdAt: z.string(),
  diff: z.string().describe('Unified diff against the previous revision.'),
});
export const SchemeRevisionsView = z.object({ items: z.array(SchemeRevisionView).describe('Newest first.') });

export const SchemeEditErrorView = z.object({
  statusCode: z.number().int(),
  message: z.string(),
  error: z.string().optional(),
  issues: z.array(SchemeIssueView).optional(),
  download: z.boolean().optional().describe('409: the directory is read-only; offer the YAML as a download.'),
});

export const SCHEME_EDITING_COMPONENTS = {
  SchemeFile: SchemeFileView,
  SchemeValidation: SchemeValidationView,
  SchemeSaved: SchemeSavedView,
  SchemeRevisions: SchemeRevisionsView,
  SchemeEditError: SchemeEditErrorView,
};
