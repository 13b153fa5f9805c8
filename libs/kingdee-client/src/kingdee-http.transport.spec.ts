import { classifyFetchFailure } from './kingdee-http.transport';

describe('classifyFetchFailure', () => {
  it('a call the caller aborted is "aborted" whatever reason the signal carries (not a lost reply)', () => {
    const controller = new AbortController();
    const reason = Object.assign(new Error('consumer stopping'), { name: 'BatchRevokedError' });
    controller.abort(reason);
    expect(classifyFetchFailure(reason, controller.signal)).toMatchObject({
      failure: 'aborted',
      requestSent: true,
    });
  });

  it('the client timeout stays a timeout even when the caller also passed a signal', () => {
    const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
    expect(classifyFetchFailure(timeout, new AbortController().signal)).toMatchObject({ failure: 'timeout' });
  });

  it('a reset after sending is a reset', () => {
    const err = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
    expect(classifyFetchFailure(err)).toMatchObject({ failure: 'reset', requestSent: true });
  });
});
