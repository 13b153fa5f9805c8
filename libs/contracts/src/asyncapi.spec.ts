import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildAsyncApiDocument } from './asyncapi.document';

describe('docs/asyncapi.yaml', () => {
  it('matches the event contracts (run `npm run asyncapi:generate` after changing a schema)', () => {
    const committed = parse(readFileSync(join(__dirname, '../../../docs/asyncapi.yaml'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildAsyncApiDocument())));
  });

  it('describes every topic of the catalogue with headers and a payload schema', () => {
    const doc = buildAsyncApiDocument() as {
      channels: Record<string, { address: string }>;
      components: { schemas: object };
    };
    expect(Object.values(doc.channels).map((c) => c.address)).toEqual([
      'wdt.stockout-return.raw.v1',
      'kingdee.pur-mrb.document.v1',
      'sync.audit.v1',
      'sync.dead-letter.v1',
    ]);
    expect(Object.keys(doc.components.schemas)).toHaveLength(5);
  });

  it('shows the audit channel carrying audit events and reconciliation summaries', () => {
    const doc = buildAsyncApiDocument() as { channels: Record<string, { messages: object }> };
    expect(Object.keys(doc.channels.audit.messages)).toEqual(['AuditEvent', 'ReconcileSummary']);
  });
});
