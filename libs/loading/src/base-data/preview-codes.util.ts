import { BaseDataRef } from './base-data-diagnosis';
import { BaseDataFinding } from './base-data-inspector';

export type PreviewCodeState = 'ok' | 'missing' | 'forbidden' | 'unallocated' | 'unchecked';

/** What a live preview shows for each code Kingdee was asked about (not audited counts as unusable: forbidden). */
export function previewCodes(
  refs: readonly BaseDataRef[],
  findings: readonly BaseDataFinding[],
): Array<{ field: string; formId: string; code: string; state: PreviewCodeState; message: string }> {
  return refs.map((ref, i) => {
    const f = findings[i];
    const state: PreviewCodeState = !f
      ? 'unchecked'
      : f.problem === 'usable'
        ? 'ok'
        : f.problem === 'missing'
          ? 'missing'
          : f.problem === 'not_allocated'
            ? 'unallocated'
            : 'forbidden';
    return { field: ref.field, formId: ref.form, code: ref.code, state, message: f?.diagnosis ?? '' };
  });
}
