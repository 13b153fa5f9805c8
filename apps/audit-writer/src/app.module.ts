import { DynamicModule, Module } from '@nestjs/common';
import { InfrastructureModule } from '@libs/runtime';
import { AuditWriterController } from './audit-writer.controller';
import { AuditWriterWorker } from './audit-writer.worker';

@Module({})
export class AuditWriterModule {
  static create(): DynamicModule {
    return {
      module: AuditWriterModule,
      imports: [InfrastructureModule.forService('audit-writer')],
      controllers: [AuditWriterController],
      providers: [AuditWriterWorker],
    };
  }
}
