import { StreamableFile } from '@nestjs/common';
import { toShanghaiTimes } from './shanghai-time.interceptor';

describe.each(['UTC', 'America/Los_Angeles', 'Pacific/Kiritimati'])('toShanghaiTimes (TZ=%s)', (zone) => {
  const saved = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = zone;
  });
  afterAll(() => {
    process.env.TZ = saved;
  });

  it('writes Dates and ISO UTC strings at any depth as +08:00; leaves stored documents and other values', () => {
    const file = new StreamableFile(Buffer.from('x'));
    expect(
      toShanghaiTimes({
        at: new Date('2026-12-04T11:20:00.000Z'),
        items: [
          { since: '2026-12-04T11:20:00Z', name: '2026-12-04T11:20:00.000Z and more', n: 3, none: null },
        ],
        event: { occurredAt: '2026-12-04T11:20:00.000Z' },
        payload: { data: '2026-12-04T11:20:00.000Z', json: { at: '2026-12-04T11:20:00.000Z' } },
        local: '2026-12-04 19:20:00',
        offset: '2026-12-04T19:20:00+08:00',
      }),
    ).toEqual({
      at: '2026-12-04T19:20:00.000+08:00',
      items: [
        {
          since: '2026-12-04T19:20:00.000+08:00',
          name: '2026-12-04T11:20:00.000Z and more',
          n: 3,
          none: null,
        },
      ],
      event: { occurredAt: '2026-12-04T11:20:00.000Z' },
      payload: { data: '2026-12-04T11:20:00.000Z', json: { at: '2026-12-04T11:20:00.000Z' } },
      local: '2026-12-04 19:20:00',
      offset: '2026-12-04T19:20:00+08:00',
    });
    expect(toShanghaiTimes(file)).toBe(file);
  });
});
