import { BrokenCircuitError } from 'cockatiel';
import { KingdeeError } from '@libs/kingdee-client';
import { isLoaderTransient } from './connection-circuit';
import { LoaderStoppedError } from './load.processor';

describe('isLoaderTransient: what the loader never dead-letters (CONSUMER_MAX_ATTEMPTS)', () => {
  it('treats Kingdee failures, an open circuit and its own stop as its outside world, not the document', () => {
    expect(
      isLoaderTransient(new KingdeeError({ kind: 'transient', code: 'KD_HTTP_503', message: 'down' })),
    ).toBe(true);
    expect(isLoaderTransient(new KingdeeError({ kind: 'permanent', code: 'KD_X', message: 'refused' }))).toBe(
      true,
    );
    expect(isLoaderTransient(new BrokenCircuitError())).toBe(true);
    expect(isLoaderTransient(new LoaderStoppedError('stopping'))).toBe(true);
  });
  it("treats the loader's own failure on a document as the document's (dead-lettered after the attempts)", () => {
    expect(isLoaderTransient(new TypeError("Cannot read properties of undefined (reading 'FNumber')"))).toBe(
      false,
    );
  });
});
