import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { REDACTED, redactDeep } from './log-redaction';

/** The lines a logger writes, parsed. */
function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('redactDeep', () => {
  it('blanks secrets and personal data four levels deep and more, by key name in any case', () => {
    const input = {
      err: { config: { auth: { password: 'hunter2', user: 'ops' } } },
      a: { b: { c: { d: { receiver_mobile: '13812345678', Authorization: 'Bearer abc', keep: 1 } } } },
      list: [{ nested: [{ appSecret: 's3cr3t' }] }],
    };
    const out = redactDeep(input);
    expect(out).toEqual({
      err: { config: { auth: { password: REDACTED, user: 'ops' } } },
      a: { b: { c: { d: { receiver_mobile: REDACTED, Authorization: REDACTED, keep: 1 } } } },
      list: [{ nested: [{ appSecret: REDACTED }] }],
    });
    // The caller's object is not changed.
    expect(input.err.config.auth.password).toBe('hunter2');
  });

  it('returns the same object when nothing is redacted (no copy on the hot path)', () => {
    const input = { a: { b: [1, 2, { c: 'x' }] }, when: new Date(0) };
    expect(redactDeep(input)).toBe(input);
  });

  it('walks errors (own fields and cause) and survives cycles', () => {
    const cause = Object.assign(new Error('inner'), { request: { headers: { cookie: 'sid=1' } } });
    const err = Object.assign(new Error('outer', { cause }), { config: { password: 'pw' } });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const out = redactDeep({ err, cyclic }) as unknown as {
      err: Record<string, unknown> & { cause: Record<string, unknown> };
      cyclic: Record<string, unknown>;
    };
    expect(out.err).toMatchObject({ type: 'Error', message: 'outer', config: { password: REDACTED } });
    expect(out.err.cause).toMatchObject({ message: 'inner', request: { headers: { cookie: REDACTED } } });
    expect(out.cyclic.self).toBe('[circular]');
  });
});

describe('createLogger', () => {
  it('writes no secret or personal value at any depth, and keeps the rest', () => {
    const out = capture();
    const logger = createLogger('test', 'info', out.stream);
    const error = Object.assign(new Error('login refused'), {
      response: { config: { data: { password: 'pw-4-levels', acctid: 'A1' } } },
    });
    logger.info(
      {
        level1: {
          level2: { level3: { level4: { KINGDEE_APP_SECRET: 'kd-secret', receiver_name: '张三' } } },
        },
        record: { receiver_address: '广东省深圳市', order_no: 'SO1' },
      },
      'deep',
    );
    logger.error({ err: error }, 'failed');
    logger.child({ connection: 'default' }).warn({ session: { sessionId: 'kd-session-id' } }, 'child');
    const text = out.text();
    for (const secret of ['pw-4-levels', 'kd-secret', '张三', '广东省深圳市', 'kd-session-id'])
      expect(text).not.toContain(secret);
    const [deep, failed, child] = out.lines();
    expect(deep).toMatchObject({
      service: 'test',
      msg: 'deep',
      level1: { level2: { level3: { level4: { KINGDEE_APP_SECRET: REDACTED, receiver_name: REDACTED } } } },
      record: { receiver_address: REDACTED, order_no: 'SO1' },
    });
    expect(failed).toMatchObject({
      msg: 'failed',
      err: { message: 'login refused', response: { config: { data: { password: REDACTED, acctid: 'A1' } } } },
    });
    expect(typeof (failed.err as { stack?: unknown }).stack).toBe('string');
    expect(child).toMatchObject({ connection: 'default', session: { sessionId: REDACTED } });
  });
});
