import { BODY_CAP_BYTES, capBody } from './attempt-log';

describe('capBody', () => {
  it('keeps a body within 16 KB as it is, with its UTF-8 JSON size', () => {
    const body = { Model: [{ FBillNo: 'CAP-1', FNote: '退货' }] };
    expect(BODY_CAP_BYTES).toBe(16 * 1024);
    expect(capBody(body)).toEqual({ body, bytes: Buffer.byteLength(JSON.stringify(body)) });
    // Exactly at the cap is still whole.
    const exact = 'a'.repeat(BODY_CAP_BYTES - 2); // the quotes make it BODY_CAP_BYTES bytes
    expect(capBody(exact)).toEqual({ body: exact, bytes: BODY_CAP_BYTES });
  });

  it('cuts a body over 16 KB to its head (at most 16 KB), marked truncated with the full size', () => {
    const body = { Model: { FNote: 'x'.repeat(40_000) } };
    const full = JSON.stringify(body);
    const { body: stored, bytes } = capBody(body) as {
      body: { truncated: boolean; bytes: number; head: string };
      bytes: number;
    };
    expect(bytes).toBe(Buffer.byteLength(full));
    expect(stored).toMatchObject({ truncated: true, bytes });
    expect(Buffer.byteLength(stored.head)).toBeLessThanOrEqual(BODY_CAP_BYTES);
    expect(Buffer.byteLength(stored.head)).toBeGreaterThan(BODY_CAP_BYTES - 100);
    expect(full.startsWith(stored.head)).toBe(true);
    // One byte over the cap is cut too.
    const over = 'a'.repeat(BODY_CAP_BYTES - 1);
    expect(capBody(over).body).toMatchObject({ truncated: true, bytes: BODY_CAP_BYTES + 1 });
  });

  it('never splits a multi-byte character and counts bytes, not characters', () => {
    // 3 bytes per character: 6 000 characters are 18 000 bytes, over the cap in bytes though not in length.
    const text = '退'.repeat(6_000);
    const { body: stored, bytes } = capBody(text) as {
      body: { truncated: boolean; head: string };
      bytes: number;
    };
    expect(bytes).toBe(18_002);
    expect(stored.truncated).toBe(true);
    expect(Buffer.byteLength(stored.head)).toBeLessThanOrEqual(BODY_CAP_BYTES);
    expect(stored.head).not.toContain('\uFFFD');
    expect(JSON.stringify(text).startsWith(stored.head)).toBe(true);
  });

  it('stores a missing body as null and honours a smaller cap', () => {
    expect(capBody(undefined)).toEqual({ body: null, bytes: 0 });
    expect(capBody(null)).toEqual({ body: null, bytes: 4 });
    expect(capBody({ a: 'bcdef' }, 8).body).toEqual({ truncated: true, bytes: 13, head: '{"a":"bc' });
  });
});
