import { AuditEvent, RawStockoutEvent } from '@libs/contracts';
import { describeMessage, maskReceiverFields, TailMessage } from './tail-format.util';

const rawEvent: RawStockoutEvent = {
  eventType: 'wdt.stockout-return.raw',
  schemaVersion: 1,
  eventId: '2b6f1c2e-6c1e-5a8e-9a3e-1f0d6c1b7a11',
  schemeId: 'wdt-stockout-return-to-kingdee-pur-mrb',
  source: { system: 'wdt', sid: 'demo-sid', gateway: 'native', method: 'wdt.stockout.order.query.return' },
  orderNo: 'CG202611280001',
  extractedAt: '2026-11-28T06:00:00.000Z',
  sourceWindow: { axis: 'consign_time', start: '2026-11-28 13:00:00', end: '2026-11-28 14:00:00' },
  fingerprint: 'md5:abc',
  trigger: 'resync',
  record: {
    order_no: 'CG202611280001',
    receiver_name: '张三丰',
    receiver_mobile: '13812345678',
    receiver_address: '',
    details_list: [{ goods_no: 'G1', receiver_note: '放门口' }],
  },
};

const auditEvent: AuditEvent = {
  eventType: 'sync.audit',
  schemaVersion: 1,
  eventId: '7d1b7c4a-1f7e-5f61-8d0e-3c1b2a9d4e55',
  schemeId: 'wdt-stockout-return-to-kingdee-pur-mrb',
  sourceKey: 'CG202611280001',
  stage: 'loader',
  status: 'loaded',
  occurredAt: '2026-11-28T06:00:05.000Z',
  correlationId: 'CG202611280001',
  kingdeeId: '100234',
  kingdeeNumber: 'CGTL000123',
  billKey: 'CG202611280001',
  attempts: 1,
};

function message(value: unknown, headers: Record<string, string> = {}): TailMessage {
  return {
    topic: 't',
    partition: 2,
    offset: '41',
    key: 'CG202611280001',
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers,
  };
}

describe('maskReceiverFields', () => {
  it('masks every receiver_* value at any depth and leaves the rest and the input untouched', () => {
    const masked = maskReceiverFields(rawEvent.record);
    expect(masked).toEqual({
      order_no: 'CG202611280001',
      receiver_name: '***',
      receiver_mobile: '***',
      receiver_address: '',
      details_list: [{ goods_no: 'G1', receiver_note: '***' }],
    });
    expect(rawEvent.record.receiver_name).toBe('张三丰');
  });

  it('masks objects and numbers under receiver_* keys too', () => {
    expect(maskReceiverFields({ receiver_zip: 518000, receiver_area: { p: '广东' }, n: null })).toEqual({
      receiver_zip: '***',
      receiver_area: '***',
      n: null,
    });
  });
});

describe('describeMessage', () => {
  it('prints a raw event as one line: order, trigger, scheme, event id', () => {
    const out = describeMessage('raw', message(rawEvent));
    expect(out).toEqual({
      stream: 'out',
      line:
        'raw  p2@41  2026-11-28T06:00:00.000Z  order=CG202611280001  trigger=resync  ' +
        'scheme=wdt-stockout-return-to-kingdee-pur-mrb  eventId=2b6f1c2e-6c1e-5a8e-9a3e-1f0d6c1b7a11',
    });
  });

  it('appends the record with receiver_* masked only when asked, never the personal data', () => {
    const out = describeMessage('raw', message(rawEvent), { showRecord: true });
    expect(out.stream).toBe('out');
    expect(out.line).toContain('"receiver_name":"***"');
    expect(out.line).not.toContain('张三丰');
    expect(out.line).not.toContain('13812345678');
    expect(out.line.split('\n')).toHaveLength(1);
  });

  it('defaults a raw event without trigger to poll (the contract default)', () => {
    const { trigger: _trigger, ...withoutTrigger } = rawEvent;
    expect(describeMessage('raw', message(withoutTrigger)).line).toContain('trigger=poll');
  });

  it('prints an audit event with stage/status and the Kingdee number', () => {
    expect(describeMessage('audit', message(auditEvent))).toEqual({
      stream: 'out',
      line:
        'audit  p2@41  2026-11-28T06:00:05.000Z  order=CG202611280001  loader/loaded  ' +
        'kingdee=CGTL000123  bill=CG202611280001  attempts=1',
    });
  });

  it('keeps a failure with a multi-line error on one line and shows the dead-letter id', () => {
    const failed: AuditEvent = {
      ...auditEvent,
      status: 'dead_lettered',
      kingdeeId: undefined,
      kingdeeNumber: undefined,
      errorField: 'FMaterialId',
      errorMessage: '物料不存在\nline 2',
      deadLetterId: '0c9a4f6e-2d1b-4c3a-9e8f-7a6b5c4d3e2f',
    };
    const out = describeMessage('audit', message(JSON.parse(JSON.stringify(failed))));
    expect(out.stream).toBe('out');
    expect(out.line).toContain('loader/dead_lettered  kingdee=-');
    expect(out.line).toContain('error="FMaterialId: 物料不存在\\nline 2"');
    expect(out.line).toContain('deadLetter=0c9a4f6e-2d1b-4c3a-9e8f-7a6b5c4d3e2f');
    expect(out.line.split('\n')).toHaveLength(1);
  });

  it('reports contract violations as err lines naming the field, without echoing content', () => {
    const out = describeMessage('raw', message({ ...rawEvent, orderNo: '', trigger: 'manual' }));
    expect(out.stream).toBe('err');
    expect(out.line).toMatch(/^INVALID raw t p2@41 key=CG202611280001: /);
    expect(out.line).toContain('orderNo');
    expect(out.line).toContain('trigger');
    expect(out.line).not.toContain('张三丰');
  });

  it('hints at a newer producer when the only problem is an unknown field', () => {
    const out = describeMessage('audit', message({ ...auditEvent, newField: 1 }));
    expect(out.stream).toBe('err');
    expect(out.line).toMatch(/Unrecognized key: "newField".*newer producer/);
    const worse = describeMessage('audit', message({ ...auditEvent, newField: 1, status: 'lost' }));
    expect(worse.line).toMatch(/status/);
    expect(worse.line).not.toMatch(/newer producer/);
  });

  it('reports non-JSON and empty values without quoting them', () => {
    const notJson = describeMessage('raw', message('{"receiver_name":"张三丰"'));
    expect(notJson).toEqual({
      stream: 'err',
      line: 'INVALID raw t p2@41 key=CG202611280001: value is not JSON',
    });
    expect(describeMessage('audit', message(null)).line).toMatch(/empty value$/);
  });

  it('rejects a message whose headers announce another event type or schema version', () => {
    expect(describeMessage('audit', message(auditEvent, { 'event-type': 'sync.dead-letter' })).line).toMatch(
      /header event-type is "sync.dead-letter", expected "sync.audit"/,
    );
    expect(describeMessage('audit', message(auditEvent, { 'schema-version': '2' })).line).toMatch(
      /schema-version is "2"; this consumer reads version 1/,
    );
    expect(
      describeMessage('audit', message(auditEvent, { 'schema-version': '1', 'event-type': 'sync.audit' }))
        .stream,
    ).toBe('out');
  });

  it('validates against the stream it follows: an audit event is not a raw event', () => {
    expect(describeMessage('raw', message(auditEvent)).stream).toBe('err');
  });
});
