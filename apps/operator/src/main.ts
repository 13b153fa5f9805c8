import 'reflect-metadata';
import { bootstrapService } from '@libs/runtime';
import { OperatorAppModule } from './app.module';

void bootstrapService({
  service: 'operator',
  module: () => OperatorAppModule.create(),
  port: () => Number(process.env.HTTP_PORT || 3005),
});
