import 'reflect-metadata';
import { bootstrapService } from '@libs/runtime';
import { LoaderModule } from './app.module';

void bootstrapService({
  service: 'loader',
  module: () => LoaderModule.create(),
  port: () => Number(process.env.HTTP_PORT || 3003),
});
