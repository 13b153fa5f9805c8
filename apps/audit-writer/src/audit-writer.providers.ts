import { Provider } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AlertMonitor } from '@libs/alerts';
import { AuditIngestor, AuditRepository, AuditRetention } from '@libs/audit';
import { AuditWriterConfig } from '@libs/config';
import { TopicNames } from '@libs/contracts';
import { DeadLetterPublisher } from '@libs/kafka';
import { alertMonitorProvider, CONFIG, DATA_SOURCE, DEAD_LETTERS, LOGGER, TOPICS } from '@libs/runtime';

/** The audit writer's business objects, made by Nest; AuditWriterWorker starts and stops them. */
export const AUDIT_WRITER_PROVIDERS: Provider[] = [
  alertMonitorProvider('audit-writer'),
  {
    provide: AuditRetention,
    inject: [DATA_SOURCE, CONFIG],
    useFactory: (ds: DataSource, config: AuditWriterConfig) =>
      new AuditRetention(ds, config.AUDIT_RETENTION_DAYS),
  },
  {
    provide: AuditIngestor,
    inject: [DATA_SOURCE, DEAD_LETTERS, TOPICS, LOGGER, AlertMonitor],
    useFactory: (
      ds: DataSource,
      deadLetters: DeadLetterPublisher,
      topics: TopicNames,
      logger: Logger,
      alerts: AlertMonitor,
    ) =>
      new AuditIngestor(new AuditRepository(ds), deadLetters, topics, logger, (events) =>
        alerts.onAuditEvents(events),
      ),
  },
];
