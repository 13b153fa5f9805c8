import { Controller, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { BatchContext, ConsumedMessage, RethrowRpcErrors } from '@libs/kafka';
import { LoaderWorker } from './loader.worker';

/** The loader's Kafka entry point: chunks of Kingdee documents, key-ordered. */
@Controller()
@UseFilters(RethrowRpcErrors)
export class LoaderController {
  constructor(private readonly worker: LoaderWorker) {}

  @EventPattern('kingdeeDocument')
  handle(@Payload() messages: ConsumedMessage[], @Ctx() ctx: BatchContext): Promise<void> {
    return this.worker.handle(messages, ctx);
  }
}
