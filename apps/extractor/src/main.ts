import 'reflect-metadata';
import { bootstrapService } from '@libs/runtime';
import { ExtractorModule } from './app.module';

void bootstrapService({
  service: 'extractor',
  module: () => ExtractorModule.create(),
  port: () => Number(process.env.HTTP_PORT || 3001),
});
