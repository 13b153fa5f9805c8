import 'reflect-metadata';
import { bootstrapService } from '@libs/runtime';
import { AuditWriterModule } from './app.module';

void bootstrapService({
  service: 'audit-writer',
  module: () => AuditWriterModule.create(),
  port: () => Number(process.env.HTTP_PORT || 3004),
});
