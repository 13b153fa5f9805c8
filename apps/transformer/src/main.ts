import 'reflect-metadata';
import { bootstrapService } from '@libs/runtime';
import { TransformerModule } from './app.module';

void bootstrapService({
  service: 'transformer',
  module: () => TransformerModule.create(),
  port: () => Number(process.env.HTTP_PORT || 3002),
});
