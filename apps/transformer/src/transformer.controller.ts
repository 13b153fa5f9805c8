import { Controller, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ConsumedMessage, RethrowRpcErrors } from '@libs/kafka';
import { TransformerWorker } from './transformer.worker';

/** The transformer's Kafka entry point: batches of raw stockout events. */
@Controller()
@UseFilters(RethrowRpcErrors)
export class TransformerController {
  constructor(private readonly worker: TransformerWorker) {}

  @EventPattern('rawStockout')
  handle(@Payload() messages: ConsumedMessage[]): Promise<void> {
    return this.worker.handle(messages);
  }
}
