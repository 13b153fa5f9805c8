import { DynamicModule, Module } from '@nestjs/common';
import { InfrastructureModule } from '@libs/runtime';
import { AuditWriterWorker } from './audit-writer.worker';

@Module({})
export class AuditWriterModule {
  static create(): DynamicModule {
    return {
      module: AuditWriterModule,
      imports: [InfrastructureModule.forService('audit-writer')],
      providers: [AuditWriterWorker],
    };
  }
}
