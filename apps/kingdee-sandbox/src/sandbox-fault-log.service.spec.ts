import { DEFAULT_SANDBOX_KNOBS, DEFAULT_SANDBOX_SWITCHES, SANDBOX_WRITE_METHODS } from './sandbox.options';
import { SandboxFaultLog } from './sandbox-fault-log.service';
import { SandboxSettings } from './sandbox-faults.service';

describe('fault log', () => {
  const settings = (): SandboxSettings =>
    new SandboxSettings({ ...DEFAULT_SANDBOX_KNOBS }, { ...DEFAULT_SANDBOX_SWITCHES }, 42);

  it('spends next-N counters, counts every firing and resets the counts', () => {
    const s = settings();
    const log = new SandboxFaultLog(s);
    s.patchKnobs({ next5xxAfterCommit: 2 });
    expect([
      log.fire('http5xxAfterCommit'),
      log.fire('http5xxAfterCommit'),
      log.fire('http5xxAfterCommit'),
    ]).toEqual([true, true, false]);
    log.count('sessionCallLimit');
    log.lateCommitStarted();
    log.lateCommitStarted();
    log.lateCommitEnded(true);
    expect(log.snapshot()).toMatchObject({
      injected: { http5xxAfterCommit: 2, sessionCallLimit: 1, lateCommit: 0 },
      commitsAfterClientGaveUp: 1,
      lateCommitsPending: 1,
    });
    log.reset();
    // The pending gauge survives a reset: those requests are still holding.
    expect(log.snapshot()).toMatchObject({
      injected: { http5xxAfterCommit: 0, sessionCallLimit: 0 },
      commitsAfterClientGaveUp: 0,
      lateCommitsPending: 1,
    });
  });

  it('rate knobs are reproducible with the seed', () => {
    const roll = (): boolean[] => {
      const s = settings();
      s.patchKnobs({ truncatedReplyRate: 0.5 });
      const log = new SandboxFaultLog(s);
      return Array.from({ length: 16 }, () => log.fire('truncatedReply'));
    };
    const first = roll();
    expect(first).toContain(true);
    expect(first).toContain(false);
    expect(roll()).toEqual(first);
  });

  it('rejects bad knob values and copies faultMethods', () => {
    const s = settings();
    expect(() => s.patchKnobs({ faultMethods: ['View'] })).toThrow();
    expect(() => s.patchKnobs({ http5xxAfterCommitStatus: 404 })).toThrow();
    expect(() => s.patchKnobs({ exceptionAfterSaveMode: 'half' })).toThrow();
    const methods = ['BatchSave'];
    s.patchKnobs({ faultMethods: methods });
    methods.push('Save');
    expect(s.knobs.faultMethods).toEqual(['BatchSave']);
    s.resetKnobs();
    expect(s.knobs.faultMethods).toEqual([...SANDBOX_WRITE_METHODS]);
  });
});
