import { randomUUID } from 'node:crypto';
import { silentLogger } from '@libs/common';
import { topicNamesFromEnv, type AuditEvent } from '@libs/contracts';
import type { ConsumedMessage, DeadLetterPublisher } from '@libs/kafka';
import { AuditIngestor } from './audit.ingestor';
import type { AuditRepository } from './audit.repository';

const TOPICS = topicNamesFromEnv({});

function message(value: unknown, eventType: string, offset: string): ConsumedMessage {
  return {
    topic: TOPICS.audit,
    partition: 0,
    offset,
    key: 'k',
    value: Buffer.from(JSON.stringify(value)),
    headers: { 'event-type': eventType },
    timestamp: '0',
  };
}

describe('AuditIngestor', () => {
  function setup() {
    const recorded: AuditEvent[][] = [];
    const parked: unknown[] = [];
    const repo = {
      recordDeadLetters: jest.fn(async () => undefined),
      recordAuditEvents: jest.fn(async (events: AuditEvent[]) => {
        recorded.push(events);
        return events;
      }),
    } as unknown as AuditRepository;
    const dlq = {
      park: jest.fn(async (items: unknown[]) => void parked.push(...items)),
    } as unknown as DeadLetterPublisher;
    const ingestor = new AuditIngestor(repo, dlq, TOPICS, silentLogger);
    return { ingestor, recorded, parked };
  }

  it('acknowledges reconciliation summaries on the audit topic without storing or dead-lettering them', async () => {
    const { ingestor, recorded, parked } = setup();
    const summary = {
      eventId: randomUUID(),
      runId: randomUUID(),
      schemeId: 's',
      periodFrom: '2025-01-01 00:00:00',
      periodTo: '2025-01-01 23:59:59',
      trigger: 'cli',
      state: 'done',
      counts: null,
      error: null,
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      occurredAt: new Date().toISOString(),
    };
    await ingestor.handle([message(summary, 'sync.reconciliation', '1')]);
    expect(parked).toEqual([]);
    expect(recorded).toEqual([[]]);
  });

  it('still dead-letters a malformed audit event', async () => {
    const { ingestor, parked } = setup();
    await ingestor.handle([message({ not: 'an audit event' }, 'sync.audit', '2')]);
    expect(parked).toHaveLength(1);
  });
});
