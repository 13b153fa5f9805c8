import { DEFAULT_KNOBS, FaultInjector, KnobValidationError, SandboxKnobs, mergeKnobs } from './knobs';

describe('knobs', () => {
  it('merges a valid partial update and rejects unknown or invalid fields by name', () => {
    expect(mergeKnobs({ ...DEFAULT_KNOBS }, { latencyMs: 5 }).latencyMs).toBe(5);
    expect(() => mergeKnobs({ ...DEFAULT_KNOBS }, { errorRate: 2 })).toThrow(/errorRate/);
    expect(() => mergeKnobs({ ...DEFAULT_KNOBS }, { nope: 1 })).toThrow(KnobValidationError);
  });

  it('consumes "next N" faults first and cycles malformed kinds', () => {
    let knobs: SandboxKnobs = {
      ...DEFAULT_KNOBS,
      errorNext: 1,
      malformedNext: 2,
      malformedKinds: ['html', 'broken_json'],
    };
    const consume = (patch: Partial<SandboxKnobs>) => (knobs = { ...knobs, ...patch });
    const faults = new FaultInjector(() => knobs);
    expect(faults.beforeCall(consume).type).toBe('http_5xx');
    expect(faults.beforeCall(consume).type).toBe('none');
    expect(faults.malformation(consume)).toBe('html');
    expect(faults.malformation(consume)).toBe('broken_json');
    expect(faults.malformation(consume)).toBeUndefined();
  });

  it('rolls rates from a seeded PRNG (reproducible)', () => {
    const run = () => {
      let knobs: SandboxKnobs = { ...DEFAULT_KNOBS, errorRate: 0.5 };
      const faults = new FaultInjector(() => knobs);
      return Array.from({ length: 20 }, () => faults.beforeCall((p) => (knobs = { ...knobs, ...p })).type);
    };
    const first = run();
    expect(run()).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['none', 'http_5xx']));
  });
});
