import { DynamicModule, Module } from '@nestjs/common';
import { InfrastructureModule } from '@libs/runtime';
import { AuditWriterController } from './audit-writer.controller';
import { AUDIT_WRITER_PROVIDERS } from './audit-writer.providers';
import { AuditWriterWorker } from './audit-writer.worker';

@Module({})
export class AuditWriterModule {
  static create(): DynamicModule {
    return {
      module: AuditWriterModule,
      imports: [InfrastructureModule.forService('audit-writer')],
      controllers: [AuditWriterController],
      providers: [...AUDIT_WRITER_PROVIDERS, AuditWriterWorker],
    };
  }
}
