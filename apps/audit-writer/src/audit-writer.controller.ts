import { Controller, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ConsumedMessage, RethrowRpcErrors } from '@libs/kafka';
import { AuditWriterWorker } from './audit-writer.worker';

/** The audit writer's Kafka entry point: audit events and dead letters, one consumer group. */
@Controller()
@UseFilters(RethrowRpcErrors)
export class AuditWriterController {
  constructor(private readonly worker: AuditWriterWorker) {}

  @EventPattern('audit')
  handle(@Payload() messages: ConsumedMessage[]): Promise<void> {
    return this.worker.handle(messages);
  }
}
