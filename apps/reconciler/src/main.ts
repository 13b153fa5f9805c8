import 'reflect-metadata';
import { bootstrapService } from '@libs/runtime';
import { ReconcilerModule } from './app.module';

void bootstrapService({
  service: 'reconciler',
  module: () => ReconcilerModule.create(),
  port: () => Number(process.env.HTTP_PORT || 3006),
});
