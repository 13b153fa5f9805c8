import { Module } from '@nestjs/common';
import { serviceModule } from '@libs/runtime';
import { AuditWriterController } from './audit-writer.controller';
import { AUDIT_WRITER_PROVIDERS } from './audit-writer.providers';
import { AuditWriterWorker } from './audit-writer.worker';

@Module({})
export class AuditWriterModule {
  static create = () =>
    serviceModule(AuditWriterModule, 'audit-writer', {
      controllers: [AuditWriterController],
      providers: [...AUDIT_WRITER_PROVIDERS, AuditWriterWorker],
    });
}
